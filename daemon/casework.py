"""Casework in the sync cycle: punitive steps the law does not allow yet are not opened, and each
plan's review date puts a review task on the officer's list.

Each cycle the plugin's casework (conferences, plans, referrals by student) is read once; a task
the casework pack lists as an escalation (a court or SARB referral) is withheld from the desired
writes while :func:`escalation_blockers` finds something missing (IL 105 ILCS 5/26-12, TX
§ 25.0915(a-1)/(a-3), PA § 13-1333.1(d), FL § 1003.26). Never harm: a task already in the SIS
stays as it is, so a gate added to a running district retracts nothing; the packet's cover names
the blockers. Plan reviews: :mod:`truancy.mappings.casework_reviews`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from truancy.daemon.officer import OfficerWork
from truancy.daemon.settings import Settings, resolve_path
from truancy.mappings.case import CaseState
from truancy.mappings.casework import CaseworkPack, casework_pack, load_casework
from truancy.mappings.casework_readiness import escalation_blockers
from truancy.mappings.casework_records import CaseFile
from truancy.mappings.casework_reviews import Completion, plan_review_writes
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import SisPlugin

log = logging.getLogger("truancy.daemon.casework")


class CaseworkGate:
    """Withholds escalation tasks whose preconditions are not on record and adds plan review tasks
    (see the module docstring)."""

    def __init__(
        self, pack: CaseworkPack, files: Mapping[str, CaseFile], today: date, officer: OfficerWork
    ) -> None:
        self.pack = pack
        self.files = files
        self.today = today
        self.existing = officer.rows.keys()
        self.officer = officer
        self.withheld = 0

    def __call__(
        self,
        case: CaseState,
        sis_ref: str | None,
        writes: Sequence[DesiredWrite],
        calendar: SchoolCalendar,
    ) -> list[DesiredWrite]:
        file = self.files.get(sis_ref or "", CaseFile())
        kept = []
        for write in writes:
            escalation = (
                self.pack.escalation(write.fields.get("task_type", ""))
                if write.kind is WriteKind.TASK
                else None
            )
            if escalation is not None and write.sync_key not in self.existing:
                signatures = self.pack.plan.required_signatures
                if escalation_blockers(escalation, case, file, self.today, signatures):
                    self.withheld += 1
                    continue
            kept.append(write)
        if file.plans:
            kept += plan_review_writes(self.pack, case, file, calendar, self._completions(sis_ref))
        return kept

    def _completions(self, sis_ref: str | None) -> dict[str, Completion]:
        """The officer's "done" on each of the student's daemon task rows, by sync key."""
        return {
            action.sync_key: (action.on, action.outcome)
            for action in self.officer.actions_for(sis_ref)
            if action.kind == "task_done" and action.sync_key is not None
        }


Gate = Callable[[CaseState, str | None, Sequence[DesiredWrite], SchoolCalendar], list[DesiredWrite]]


def casework_gate(
    plugin: SisPlugin, pack: CaseworkPack | None, today: date, officer: OfficerWork
) -> CaseworkGate | None:
    """The cycle's gate, or None when the state has no casework pack or the plugin reads no casework
    (then the engine's own conditions are the only preconditions, as before)."""
    read: Callable[[], Mapping[str, CaseFile]] | None = getattr(plugin, "casework_files", None)
    if pack is None or not (pack.escalations or pack.plan.review) or read is None:
        return None
    return CaseworkGate(pack, read(), today, officer)


def district_casework(settings: Settings) -> CaseworkPack | None:
    """The district's own casework pack (``[casework] pack``) or else its state's shipped one (None:
    the state has none yet), so the cycle's gates, invitations and packets read the same law."""
    own = settings.casework.pack
    if own is not None:
        return load_casework(resolve_path(settings, own))
    return casework_pack(settings.district.state)
