"""Finding the sandbox students an officer test works on, from what the SIS and the store hold."""

from __future__ import annotations

from tests.daemon.sandbox_sync import District
from truancy.mappings.case import CaseState


def conference_pending(district: District) -> tuple[dict[str, str], CaseState]:
    """An open parent-conference task of a student with three truancy reports and no habitual
    truancy yet: the one step between this student and a SARB referral is the conference."""
    for task in district.sis_rows()["U_TRUANCY_TASKS"]:
        if task["task_type"] != "parent_conference" or task["status"] != "open":
            continue
        case = district.case_of(task["studentsdcid"])
        truant = case.designations.get("truant")
        if truant is not None and truant.occasions >= 3 and "habitual_truant" not in case.designations:
            return task, case
    raise AssertionError("the sandbox district has no student waiting on a conference")
