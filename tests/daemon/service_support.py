"""Helpers for service tests: SIS tables compared without ids or timestamps, a virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

IGNORED_COLUMNS = frozenset({"id", "whencreated", "whenmodified", "whocreated", "whomodified", "writer"})
"""Columns the SIS assigns, and ``writer``: each run's store has its own instance id."""
SERVICE_TOML = """
[http]
max_attempts = 3

[health]
port = 0

[schedule]
jitter_seconds = 0
run_on_non_school_days = true
"""


def comparable(tables: dict[str, list[dict[str, str]]]) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    """Each table as a sorted list of rows, minus the columns the SIS assigns itself."""
    return {
        table: sorted(
            tuple(sorted((k, v) for k, v in row.items() if k not in IGNORED_COLUMNS)) for row in rows
        )
        for table, rows in tables.items()
    }


class VirtualClock:
    """Time that moves only when the service sleeps.

    ``after_cycle[n]`` runs once, at the first sleep after the service's n-th cycle, so a test can
    change the SIS or look at the health endpoint between scheduled cycles.
    """

    def __init__(self, start: datetime, after_cycle: dict[int, Callable[[], None]] | None = None) -> None:
        self.now = start
        self.after_cycle = dict(after_cycle or {})
        self.cycles: Callable[[], int] = lambda: 0

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        action = self.after_cycle.pop(self.cycles(), None)
        if action is not None:
            action()
        self.now += timedelta(seconds=seconds)


def sync_once(config: str) -> None:
    """``truancy sync --once`` in a forked child (a forkserver has the imports ready, so it starts fast)."""
    from truancy.daemon.cli import app

    app(["sync", "--once", "--config", config, "--json"], standalone_mode=False)
