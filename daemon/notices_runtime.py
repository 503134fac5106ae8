"""The notices part of a cycle, built from the settings and the running plugin (or none: notices
off, or no notice pack for the district's state). A plugin whose SIS has a notices table says so
with ``logs_notices = True`` (PowerSchool); the others get the letters logged as notes."""

from __future__ import annotations

from pathlib import Path

from truancy.daemon.notices import ContactSource, NoticeCycle, PlanSource
from truancy.daemon.runtime import Runtime
from truancy.mappings.notices import load_notices, notice_states
from truancy.mappings.policy import Policy


def notice_cycle(rt: Runtime, *, secrets_dir: Path | None = None) -> NoticeCycle | None:
    settings = rt.settings.notices
    state = rt.settings.district.state.upper()
    if not settings.enabled or state not in notice_states():
        return None
    contacts: ContactSource | None = getattr(rt.plugin, "guardian_contacts", None)
    plans: PlanSource | None = getattr(rt.plugin, "health_plans", None)
    return NoticeCycle(
        rt.engine,
        load_notices(state),
        settings,
        district_name=rt.settings.district.name,
        config_dir=rt.settings.config_dir,
        contacts=contacts,
        categorize=rt.plugin.categorize,
        secrets_dir=secrets_dir,
        log_table=bool(getattr(rt.plugin, "logs_notices", False)),
        task_types=task_types(rt.policy),
        health_plans=plans,
    )


def task_types(policy: Policy) -> dict[str, str]:
    """Each task of the case pack → its type (a referral's notice waits for the referral)."""
    case = policy.case
    return {task.id: task.type for tier in case.tiers for task in tier.tasks} if case else {}
