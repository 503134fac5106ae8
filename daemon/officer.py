"""Officer work found in the truancy rows read back from the SIS, ready for the case engine.

The rows are read once per cycle, before evaluation: the same snapshot tells the case what
officers did (a task done, a flag dismissed, a note of their own) and tells the outbox what the
SIS holds, so the writes planned from the advanced case agree with what officers left there.

An action dated after today has not happened: it is not applied (a typo in a year would
otherwise designate a student early) and the cycle reports it, so the officer can fix the date.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from truancy.daemon.ownership import overridden
from truancy.mappings.case import OfficerAction, Override
from truancy.mappings.writes import DesiredWrite, is_sync_key
from truancy.plugins.base import OfficerRowError, RemoteRow, SisPlugin

log = logging.getLogger("truancy.daemon.officer")


@dataclass
class OfficerWork:
    """Officer actions by the SIS's student key, and the daemon's rows by sync key."""

    plugin: SisPlugin
    actions: dict[str, list[OfficerAction]] = field(default_factory=lambda: defaultdict(list))
    rows: dict[str, RemoteRow] = field(default_factory=dict)
    unreadable: int = 0
    future_dated: int = 0
    future: dict[str, date] = field(default_factory=dict)
    """The earliest date of an action not applied yet because it lies ahead, by SIS key: the case
    is evaluated again that day."""

    @classmethod
    def from_rows(
        cls, rows: Iterable[RemoteRow], plugin: SisPlugin, *, today: date | None = None
    ) -> OfficerWork:
        """The officer work in ``rows``; with ``today``, an action dated after it is refused."""
        work = cls(plugin)
        for row in rows:
            if is_sync_key(row.sync_key) and row.sync_key is not None:
                work.rows.setdefault(row.sync_key, row)
            try:
                action = plugin.officer_action(row)
            except OfficerRowError as exc:
                work.unreadable += 1
                log.warning("officer row not applied", extra={"error": str(exc)})
                continue
            if action is None:
                continue
            if today is not None and action.on > today:
                work.future_dated += 1
                known = work.future.get(row.sis_ref)
                work.future[row.sis_ref] = action.on if known is None else min(known, action.on)
                log.warning("officer row not applied", extra={"error": f"{row.kind.value} dated after today"})
                continue
            work.actions[row.sis_ref].append(action)
        return work

    def errors(self) -> list[str]:
        """One line per kind of row that was not applied, with what the officer should do."""
        found: list[str] = []
        if self.unreadable:
            found.append(
                f"data: {self.unreadable} officer-edited row(s) without a readable date were not applied"
            )
        if self.future_dated:
            found.append(
                f"data: {self.future_dated} officer action(s) dated after today were not applied; "
                "correct the date in the SIS and the next sync applies them"
            )
        return found

    @property
    def action_count(self) -> int:
        return sum(len(actions) for actions in self.actions.values())

    def actions_for(self, sis_ref: str | None) -> list[OfficerAction]:
        return self.actions.get(sis_ref, []) if sis_ref is not None else []

    def overrides(self, writes: Iterable[DesiredWrite]) -> list[Override]:
        """Officer-owned values in the SIS that differ from the desired writes: the officer's stand."""
        found: list[Override] = []
        for write in writes:
            remote = self.rows.get(write.sync_key)
            if remote is not None:
                fields = overridden(remote, write, self.plugin)
                found.extend(Override(write.sync_key, write.kind, name) for name in fields)
        return found
