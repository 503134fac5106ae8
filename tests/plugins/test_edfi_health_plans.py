"""504 plans and IEPs through the Ed-Fi plugin against the sandbox ODS/API over real HTTP (issue 14).

The plugin finds exactly the students whose Section 504 program association or special education
program association is in force (no ``endDate``, or one after the day asked about); what the sandbox
serves validates against the DS 5.0 OpenAPI definitions; and a notices cycle under
``approval = "auto"`` holds the letter of a truant student with a plan in force for the officer
(no email to the family) while a truant student whose plan ended gets the letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.daemon.notice_support import notice_settings, smtp_server
from tests.plugins.edfi_support import edfi_plugin, served_records_validate
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.notices import PLAN_HOLD, NoticeCycle
from truancy.daemon.notices_runtime import task_types
from truancy.daemon.notices_schema import notices
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.sandbox_sis import SandboxSis
from truancy.daemon.settings import load_settings
from truancy.mappings.notices import load_notices
from truancy.plugins.base import HealthPlanSource
from truancy.sandbox.edfi.programs import program_records
from truancy.sandbox.server import SandboxServer, sandbox_facts, write_daemon_config

REPO = Path(__file__).resolve().parents[2]
LEA = 255901
STUDENTS = 120
TRUANCY = "ca_truancy_notification"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=STUDENTS, seed=6, as_of=PINNED_AS_OF) as running:
        yield running


def _plans(server: SandboxServer) -> tuple[set[str], set[str]]:
    """(students with a plan in force on the sandbox's today, students whose plan ended)."""
    section_504, special_education = program_records(server.district)
    records = section_504 + special_education
    assert section_504
    assert special_education
    ended = {str(r["studentReference"]["studentUniqueId"]) for r in records if "endDate" in r}
    in_force = {str(r["studentReference"]["studentUniqueId"]) for r in records if "endDate" not in r}
    return in_force, ended - in_force


def test_plans_in_force_are_found_and_ended_ones_are_not(server: SandboxServer, tmp_path: Path) -> None:
    in_force, ended = _plans(server)
    assert in_force
    assert ended
    plugin = edfi_plugin(server.url, tmp_path)
    source: HealthPlanSource = plugin  # the contract's optional member, checked by mypy
    try:
        everyone = [s.student_number for s in server.district.students]
        assert source.health_plans(everyone, PINNED_AS_OF) == in_force
        assert source.health_plans(sorted(ended), PINNED_AS_OF) == set()
        # before the year's plans began nobody had one
        assert source.health_plans(everyone, date(2000, 1, 1)) == set()
        assert source.health_plans(["no-such-student"], PINNED_AS_OF) == set()
    finally:
        plugin.close()


@pytest.mark.spec
def test_served_program_associations_validate_against_ds5(server: SandboxServer, specs_dir: Path) -> None:
    resources = {
        "studentProgramAssociations": "edFi_studentProgramAssociation",
        "studentSpecialEducationProgramAssociations": "edFi_studentSpecialEducationProgramAssociation",
    }
    served_records_validate(server.url, specs_dir, resources, 1)


@pytest.mark.slow
def test_auto_approval_holds_the_letter_of_a_student_with_a_plan_in_force(
    server: SandboxServer, tmp_path: Path
) -> None:
    in_force, ended = _plans(server)
    config = tmp_path / "truancy.toml"
    write_daemon_config(
        config, server.url, SandboxSis("edfi").section(sandbox_facts(server.url, server.as_of))
    )
    with smtp_server(tmp_path) as (mailbox, port, ca), runtime(load_settings(config)) as rt:
        cycle = NoticeCycle(
            rt.engine,
            load_notices("CA"),
            notice_settings(tmp_path, port, ca, approval="auto"),
            district_name="Sandbox Unified School District",
            config_dir=tmp_path,
            contacts=rt.plugin.guardian_contacts,  # type: ignore[attr-defined]
            categorize=rt.plugin.categorize,
            task_types=task_types(rt.policy),
            health_plans=rt.plugin.health_plans,  # type: ignore[attr-defined]
        )
        summary = SyncPipeline(rt.engine, rt.plugin, rt.policy, notices=cycle).run_cycle(today=server.as_of)
        assert summary.ok, summary.errors
        with rt.engine.connect() as connection:
            rows = [dict(r) for r in connection.execute(select(notices)).mappings()]
    letters = {row["student_id"]: row for row in rows if row["notice_type"] == TRUANCY}
    mailable = {s for s, row in letters.items() if row["facts"]["recipients"]}
    held = mailable & in_force
    sent = mailable & ended
    assert held, "a truant student with a plan in force"
    assert sent, "a truant student whose plan ended"
    assert all(letters[s]["status"] == "held" and letters[s]["note"] == PLAN_HOLD for s in held)
    assert all(letters[s]["status"] == "sent" for s in sent)
    held_addresses = {r["email"] for s in held for r in letters[s]["facts"]["recipients"] if r["email"]}
    assert not held_addresses & {m["To"] for m in mailbox.messages}
    assert all(row["note"] == PLAN_HOLD for row in rows if row["student_id"] in held)  # every letter type
