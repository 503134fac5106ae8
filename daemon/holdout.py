"""A random hold-out group for non-mandated nudges, so the outcomes report can estimate their effect.

The published attendance-nudge trials (e.g. Rogers & Feller's mailed chronic-absence letters)
randomised which families received a letter and compared the groups' attendance afterwards. A
district may do the same for a nudge no law requires: ``[outcomes] holdout_share`` of students
(drawn by a keyed hash of the district, the school year and the student, so a student stays in
their group all year and a new year draws again) get no task of ``holdout_tasks`` — and so no
letter that task triggers. Only outreach tasks that no later legal step depends on can be held out:
a notice the law requires, a conference, a referral, or any task whose completion a designation
needs, is refused with a settings error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.writes import WriteKind

if TYPE_CHECKING:
    from truancy.daemon.evaluate import Target

HOLDABLE_TYPES = frozenset({"outreach"})


class OutcomesSettings(BaseModel):
    """``[outcomes]``: the optional random hold-out group (off unless ``holdout_share`` > 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout_share: float = Field(default=0.0, ge=0.0, le=0.5, description="share of students held out, 0-0.5")
    holdout_tasks: tuple[str, ...] = Field(
        default=(), description='non-mandated nudge task ids, e.g. ["attendance_outreach"]'
    )
    holdout_key: str = Field(default="", description="any text; changing it redraws the groups")

    @property
    def enabled(self) -> bool:
        return self.holdout_share > 0 and bool(self.holdout_tasks)


def held_out(settings: OutcomesSettings, district: str, school_year: str, student_id: str) -> bool:
    """Whether the student is in this year's hold-out group (deterministic, uniform over students)."""
    if not settings.enabled:
        return False
    payload = "\x1f".join((settings.holdout_key, district, school_year, student_id)).encode("utf-8")
    draw = int.from_bytes(hashlib.sha256(payload).digest()[:8], "big") / 2**64
    return draw < settings.holdout_share


def holdable_tasks(settings: OutcomesSettings, policy: CasePolicy | None) -> frozenset[str]:
    """The task ids held out, after refusing any the law or a later step needs (SettingsError)."""
    from truancy.daemon.settings import SettingsError

    if not settings.enabled:
        return frozenset()
    tasks = {task.id: task for tier in (policy.tiers if policy else ()) for task in tier.tasks}
    for task_id in settings.holdout_tasks:
        task = tasks.get(task_id)
        if task is None:
            raise SettingsError(f"outcomes.holdout_tasks: the policy pack has no task {task_id!r}")
        if task.type not in HOLDABLE_TYPES or task.satisfies is not None:
            raise SettingsError(
                f"outcomes.holdout_tasks: {task_id!r} cannot be held out: only outreach no legal step "
                f"depends on may be (it is a {task.type} task"
                + (f" that satisfies {task.satisfies})" if task.satisfies else ")")
            )
    return frozenset(settings.holdout_tasks)


def without_holdout(
    desired: Mapping[str, Target],
    settings: OutcomesSettings,
    policy: CasePolicy | None,
    *,
    district: str,
    school_year: str,
) -> dict[str, Target]:
    """The desired writes less the held-out students' open nudge tasks (a done one stays as it is)."""
    tasks = holdable_tasks(settings, policy)
    if not tasks:
        return dict(desired)
    return {
        key: target
        for key, target in desired.items()
        if not (
            target.write.kind is WriteKind.TASK
            and target.write.fields.get("task_type") in tasks
            and target.write.fields.get("status") == "open"
            and held_out(settings, district, school_year, target.write.student_id)
        )
    }
