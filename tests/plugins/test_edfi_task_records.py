"""Every task of ours is its own Ed-Fi record, over real HTTP against the sandbox's ODS/API.

The ODS keys a studentInterventionAssociation, and the attendance events that close it, by intervention
and student alone. Two tasks of one type for one student (a SARB and a chronic-absence letter to
approve) on one intervention per task type were one record: each create overwrote the other's
statement, neither read back in place, and every cycle created them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from tests.plugins.edfi_support import LEA
from tests.plugins.test_edfi_plugin import (
    EDFI_CODES,
    make_plugin,
    record_task_event,
    task_intervention,
    token,
)
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.ownership import needs_update
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import RemoteRow
from truancy.plugins.edfi import EdFiPlugin
from truancy.sandbox.server import SandboxServer

DATA = "/edfi/data/v3/ed-fi"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=20, seed=8, as_of=PINNED_AS_OF) as running:
        yield running


def _review(student: str, letter: str, title: str) -> DesiredWrite:
    fields = {
        "task_type": "notice_review", "title": f"Review and approve letter: {title}",
        "due_date": "2025-10-15", "status": "open", "citation": "Cal. Educ. Code § 48260.5", "detail": "",
    }  # fmt: skip
    return DesiredWrite.build(WriteKind.TASK, student, "2025-26", f"notice_review:{letter}", fields)


def _two_reviews(server: SandboxServer, index: int) -> tuple[EdFiPlugin, str, DesiredWrite, DesiredWrite]:
    """Two letters awaiting approval for one student, created: a SARB and a chronic-absence notice."""
    student = server.district.students[index].student_number
    plugin = make_plugin(server.url, EDFI_CODES)
    sarb = _review(student, "sarb:1", "SARB referral notice")
    chronic = _review(student, "chronic:1", "Chronic absence notice (non-punitive)")
    for write in (sarb, chronic):
        plugin.create(write, student)
    return plugin, student, sarb, chronic


def _rows(plugin: EdFiPlugin, student: str) -> dict[str | None, RemoteRow]:
    return {
        row.sync_key: row
        for row in plugin.read_back()
        if row.kind is WriteKind.TASK and row.sis_ref == student
    }


def _interventions(server: SandboxServer, code: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(
        f"{server.url}{DATA}/interventions",
        params={"educationOrganizationId": str(LEA), "interventionIdentificationCode": code},
        headers=token(server),
        timeout=10,
    ).json()
    return found


def test_two_tasks_of_one_type_for_one_student_are_two_records_in_place(server: SandboxServer) -> None:
    plugin, student, sarb, chronic = _two_reviews(server, 7)

    rows = _rows(plugin, student)

    assert set(rows) == {sarb.sync_key, chronic.sync_key}
    assert rows[sarb.sync_key].remote_id != rows[chronic.sync_key].remote_id
    assert rows[sarb.sync_key].columns["title"] == "Review and approve letter: SARB referral notice"
    assert not any(needs_update(rows[write.sync_key], write, plugin) for write in (sarb, chronic))
    assert task_intervention(server, student, sarb.sync_key) != task_intervention(
        server, student, chronic.sync_key
    )
    plugin.close()


def test_an_officers_event_closes_only_the_task_it_was_recorded_for(server: SandboxServer) -> None:
    plugin, student, sarb, chronic = _two_reviews(server, 8)
    record_task_event(server, sarb, "held", "2025-10-14")

    rows = _rows(plugin, student)
    done = plugin.officer_action(rows[sarb.sync_key])

    assert done is not None
    assert (done.kind, done.on) == ("task_done", date(2025, 10, 14))
    assert plugin.officer_action(rows[chronic.sync_key]) is None
    assert rows[chronic.sync_key].columns["status"] == "open"
    plugin.close()


def test_deleting_a_task_removes_its_own_intervention_and_leaves_the_other_task(
    server: SandboxServer,
) -> None:
    plugin, student, sarb, chronic = _two_reviews(server, 9)
    code = task_intervention(server, student, sarb.sync_key)

    plugin.delete(_rows(plugin, student)[sarb.sync_key])

    assert set(_rows(plugin, student)) == {chronic.sync_key}
    assert _interventions(server, code) == []
    assert len(_interventions(server, task_intervention(server, student, chronic.sync_key))) == 1
    plugin.close()
