"""The retraction guard: a cycle that would withdraw an unusual share of open flags and tasks
writes nothing and waits for an administrator.

Whatever the cause (a code map that lost a code, a policy override with a typo, a SIS that
returned empty pages on a full read), the symptom is the same: many open rows at once would be
deleted. A normal day withdraws a handful (late notes from parents, an officer's re-coding). The
default limit is the larger of 25 rows and 2% of the open flags and tasks: 25 keeps a small
district's ordinary day from tripping it, 2% scales it for large ones (a 20,000-student district
with ~5,000 open rows may withdraw 100), and either is far below what the slips above produce
(finding of issue 11: 168 flags and 281 tasks at once). The case changes of a held cycle are not
saved, so the next cycle decides again from the same records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from truancy.daemon.outbox import OURS, Plan
from truancy.daemon.ownership import may_retract
from truancy.daemon.settings import SyncSettings
from truancy.mappings.writes import WriteKind
from truancy.plugins.base import RemoteRow, SisPlugin

DEFAULT_SHARE = 0.02
DEFAULT_ROWS = 25


@dataclass(frozen=True, slots=True)
class RetractionGuard:
    """``share`` and ``rows`` set the limit; ``allow`` lets one cycle (or every cycle) through."""

    share: float = DEFAULT_SHARE
    rows: int = DEFAULT_ROWS
    allow: bool = False

    @classmethod
    def from_settings(cls, sync: SyncSettings, *, allow: bool = False) -> RetractionGuard:
        """The guard ``[sync]`` sets; ``allow`` (``--allow-retractions``) lets this one cycle through."""
        return cls(sync.retraction_guard_share, sync.retraction_guard_rows, allow or sync.allow_retractions)

    def limit(self, open_rows: int) -> int:
        return max(self.rows, int(self.share * open_rows))

    def cannot_hold(self, open_rows: int) -> bool:
        """Whether no plan can be held while the SIS has ``open_rows`` open rows (a cycle withdraws
        at most those): a first sync, a small district's quiet day, or ``allow``. Such a cycle may
        send its writes while it is still planning."""
        return self.allow or open_rows <= self.limit(open_rows)

    def check(
        self,
        plan: Plan,
        remote_rows: Iterable[RemoteRow],
        plugin: SisPlugin,
        *,
        expected: Collection[str] = frozenset(),
    ) -> Held | None:
        """Why this plan must wait, or None when it may be written.

        ``expected`` names students (SIS keys) whose rows leave by design, such as cases closed by a
        new school year: those withdrawals are not weighed, or every July would need an admin.
        """
        open_rows = sum(
            1
            for row in remote_rows
            if row.kind is not WriteKind.NOTE
            and row.sync_key is not None
            and OURS.match(row.sync_key)
            and may_retract(row, plugin)
        )
        return self.weigh(retracting(plan, expected), open_rows)

    def weigh(self, retractions: Counter[str], open_rows: int) -> Held | None:
        """Why a cycle withdrawing ``retractions`` (by kind) of ``open_rows`` must wait, or None.

        The batched cycle sums each batch's :func:`retracting` and counts the open rows in the
        store's mirror of the SIS, so the whole cycle is weighed before anything is written."""
        total = sum(retractions.values())
        limit = self.limit(open_rows)
        if total <= limit or self.allow:
            return None
        return Held(dict(sorted(retractions.items())), total, open_rows, limit)


def retracting(plan: Plan, expected: Collection[str] = frozenset()) -> Counter[str]:
    """The plan's withdrawals of open rows by kind, less those of students in ``expected``."""
    return Counter(row.kind.value for row in plan.retractions if row.sis_ref not in expected)


@dataclass(frozen=True, slots=True)
class Held:
    """A cycle's writes held back by the guard: what it would have withdrawn, against what limit."""

    retractions: dict[str, int]
    total: int
    open_rows: int
    limit: int

    @property
    def reason(self) -> str:
        kinds = ", ".join(f"{n} {kind}(s)" for kind, n in self.retractions.items())
        return (
            f"would withdraw {self.total} open rows ({kinds}) of {self.open_rows}, over the limit of "
            f"{self.limit}: nothing was written; check the code map, policy and SIS, then run "
            "`truancy sync --once --allow-retractions` if the withdrawals are right"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "retractions": self.retractions,
            "total": self.total,
            "open_rows": self.open_rows,
            "limit": self.limit,
            "reason": self.reason,
        }
