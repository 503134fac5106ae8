"""An optional part of the plugin contract: holding the outcomes report's published figures.

A plugin that can keep district-level rows (PowerSchool: the independent table
U_TRUANCY_FIGURES) offers :class:`FigureTarget`; ``truancy report outcomes --to-sis`` then writes
the figures through it. As for students' rows, the plugin reads and writes in canonical fields
(:data:`truancy.mappings.report_figures.FIELDS` and ``writer``) and the daemon does the diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from truancy.mappings.report_figures import FigureWrite


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One figure row as it stands in the SIS: its row id, its key and its canonical fields."""

    remote_id: str
    sync_key: str | None
    fields: Mapping[str, str]


@runtime_checkable
class FigureTarget(Protocol):
    def figure_rows(self, school_year: str) -> list[FigureRow]:
        """Every figure row the SIS holds for ``school_year``, whoever wrote it."""
        ...

    def create_figure(self, write: FigureWrite) -> str:
        """Insert the row; returns its id."""
        ...

    def update_figure(self, remote_id: str, write: FigureWrite) -> None: ...

    def delete_figure(self, remote_id: str) -> None: ...
