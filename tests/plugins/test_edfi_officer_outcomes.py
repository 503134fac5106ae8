"""Ed-Fi officer read-back has PowerSchool's semantics: outcomes by code or label, the day it happened,
and a rescheduled conference leaves the task open. Over real HTTP against the sandbox's ODS/API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.plugins.test_edfi_plugin import EDFI_CODES, TASK_FIELDS, make_plugin, record_task_event
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.ownership import overridden
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import RemoteRow
from truancy.plugins.edfi import EdFiPlugin
from truancy.sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=30, seed=6, as_of=PINNED_AS_OF) as running:
        yield running


def _task_row(plugin: EdFiPlugin, write: DesiredWrite) -> RemoteRow:
    return next(row for row in plugin.read_back() if row.sync_key == write.sync_key)


@pytest.mark.parametrize(
    ("student_index", "reason", "outcome"),
    [
        (0, "Conference held", "held"),
        (1, "  parent/guardian did NOT attend ", "no_show"),
        (2, "no_show", "no_show"),
        (5, "SARB requested a petition to the juvenile court (§ 48263)", "petition_juvenile_court"),
    ],
)
def test_a_label_or_a_code_reads_back_as_the_outcome_code(
    server: SandboxServer, student_index: int, reason: str, outcome: str
) -> None:
    student = server.district.students[student_index].student_number
    plugin = make_plugin(server.url, EDFI_CODES)
    task = DesiredWrite.build(WriteKind.TASK, student, "2025-26", "conference", TASK_FIELDS)
    plugin.create(task, student)
    record_task_event(server, task, reason, "2026-06-10")

    action = plugin.officer_action(_task_row(plugin, task))

    assert action is not None
    assert (action.kind, action.on, action.outcome) == ("task_done", date(2026, 6, 10), outcome)
    plugin.close()


def test_a_rescheduled_conference_leaves_the_task_open(server: SandboxServer) -> None:
    student = server.district.students[3].student_number
    plugin = make_plugin(server.url, EDFI_CODES)
    task = DesiredWrite.build(WriteKind.TASK, student, "2025-26", "conference", TASK_FIELDS)
    plugin.create(task, student)
    record_task_event(server, task, "Rescheduled (task stays open)", "2026-06-10")

    row = _task_row(plugin, task)

    assert row.columns["status"] == "open"
    assert row.columns["outcome"] == "rescheduled"
    assert plugin.officer_action(row) is None
    assert overridden(row, task, plugin) == ()
    plugin.close()
