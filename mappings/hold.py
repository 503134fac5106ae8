"""Holding a case while some of its records cannot be counted.

A row whose code the map does not list (or a part-day code without minutes) is neither present
nor absent until an admin fixes the map: counting it as either could harm the record. A case with
such rows in its evaluation window keeps every designation, flag and open task it had, and says
so on its flags and tasks, until the rows can be counted; only then may anything be withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from truancy.mappings.codemap import Quarantined


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a case is held: the codes waiting for the map, and how many records they are."""

    unmapped: tuple[str, ...]
    without_minutes: tuple[str, ...]
    records: int

    @property
    def marker(self) -> str:
        """The words officers see on a held flag or task (codes only: no student data)."""
        waits = []
        if self.unmapped:
            waits.append(f"waiting for {_codes(self.unmapped)} to be mapped")
        if self.without_minutes:
            waits.append(f"waiting for minutes on {_codes(self.without_minutes)} records")
        records = f"{self.records} record{'s' if self.records != 1 else ''}"
        return f"HELD ({'; '.join(waits)}; {records}): nothing is withdrawn until then."


def hold_for(quarantined: Iterable[Quarantined]) -> Hold | None:
    """The hold a student's quarantined records put on the case, or None when there are none."""
    items = list(quarantined)
    if not items:
        return None
    unmapped = tuple(sorted({q.code for q in items if q.unmapped}))
    without_minutes = tuple(sorted({q.code for q in items if not q.unmapped}))
    return Hold(unmapped, without_minutes, len(items))


def _codes(codes: tuple[str, ...]) -> str:
    quoted = ", ".join(repr(code) for code in codes)
    return f"code {quoted}" if len(codes) == 1 else f"codes {quoted}"
