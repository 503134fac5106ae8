"""Progress reporting: a rich progress bar on a terminal, nothing (logs only) otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class Phase(Protocol):
    def advance(self, amount: int = 1) -> None: ...

    def set_total(self, total: int) -> None: ...


class Reporter(Protocol):
    def phase(self, description: str, total: int | None = None) -> Phase: ...


class _SilentPhase:
    def advance(self, amount: int = 1) -> None:
        return None

    def set_total(self, total: int) -> None:
        return None


class SilentReporter:
    def phase(self, description: str, total: int | None = None) -> Phase:
        return _SilentPhase()


class _RichPhase:
    def __init__(self, progress: Progress, description: str, total: int | None) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._task, amount)

    def set_total(self, total: int) -> None:
        self._progress.update(self._task, total=total)


class RichReporter:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def phase(self, description: str, total: int | None = None) -> Phase:
        return _RichPhase(self._progress, description, total)


@contextmanager
def reporter(enabled: bool | None = None) -> Iterator[Reporter]:
    """A progress bar on stderr when it is a terminal (or when forced), else silence."""
    console = Console(stderr=True)
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        yield SilentReporter()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield RichReporter(progress)
