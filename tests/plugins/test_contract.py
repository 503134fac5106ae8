"""Every SIS plugin through the contract kit (tests/plugins/contract.py): the real pipeline, the sandbox,
real HTTP. A new plugin is accepted when it is added to ``PLUGINS`` and these pass for it."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.daemon.test_crash_kill9 import kill_after
from tests.plugins.contract import PLUGINS, UNEXCUSED, Kit, SisUnderTest, kit, open_flags
from tests.sandbox_year import PINNED_AS_OF
from truancy.mappings.writes import WriteKind
from truancy.plugins.base import PluginConfigError, RemoteRow, check_contract
from truancy.plugins.edfi import EdFiPlugin
from truancy.plugins.powerschool.plugin import SETTLED

KILL_POINTS = (15, 60, 150)
"""SIS requests after which a child sync is SIGKILLed: in the reads, then (as far as it got) the writes."""
each_plugin = pytest.mark.parametrize("sis", PLUGINS, ids=[p.name for p in PLUGINS])


@pytest.mark.slow
@each_plugin
def test_two_cycles_the_second_writes_nothing_and_cursors_never_move_back(
    sis: SisUnderTest, tmp_path: Path
) -> None:
    with kit(sis, tmp_path) as k:
        first = k.sync()
        assert first.ok, first.errors
        assert first.writes.created > 0
        after_first = k.cursors()
        second = k.sync()
        assert second.ok, second.errors
        assert (second.writes.created, second.writes.updated, second.writes.deleted) == (0, 0, 0)
        after_second = k.cursors()
    assert set(after_first) == {"roster", "attendance"}
    assert all(after_second[stream] >= after_first[stream] for stream in after_first)


@pytest.mark.slow
@each_plugin
def test_an_attendance_correction_retracts_the_flag(sis: SisUnderTest, tmp_path: Path) -> None:
    with kit(sis, tmp_path) as k:
        assert k.sync().ok
        flag = open_flags(k.rows())[0]
        dcid = sis.dcid_of(k.server.district, flag.sis_ref)
        for row in k.server.district.attendance_of(dcid):
            if row.att_code in UNEXCUSED:  # the parent's notes arrive: every such day is excused
                k.control("POST", "attendance/correct", {"dcid": row.dcid, "att_code": "EX"})
        corrected = k.sync()
        assert corrected.ok, corrected.errors
        assert corrected.writes.deleted >= 1
        assert flag.sync_key not in {row.sync_key for row in open_flags(k.rows())}


@pytest.mark.slow
@each_plugin
def test_an_officers_edit_is_read_back_and_survives_the_next_cycles(
    sis: SisUnderTest, tmp_path: Path
) -> None:
    with kit(sis, tmp_path) as k:
        assert k.sync().ok
        task = next(row for row in k.rows() if row.kind is WriteKind.TASK and not k.officer_done(row))
        sis.close_task(k.server, task, PINNED_AS_OF)
        applied = k.sync()
        assert applied.ok, applied.errors
        assert applied.officer_actions >= 1
        k.sync()
        kept = next(row for row in k.rows() if row.sync_key == task.sync_key)
        assert k.officer_done(kept)


@pytest.mark.slow
@each_plugin
def test_an_officer_owned_field_is_never_overwritten_and_a_row_the_officer_worked_is_not_retracted(
    sis: SisUnderTest, tmp_path: Path
) -> None:
    with kit(sis, tmp_path) as k:
        declared = k.ownership()[WriteKind.FLAG]
        assert {"status", "dismissed_date"} <= declared.officer
        assert "label" in declared.daemon
        assert declared.retract_while == {"status": "active"}
        assert k.sync().ok
        flag = open_flags(k.rows())[0]
        on = PINNED_AS_OF.isoformat()
        # The officer dismisses the flag, and retitles it too: the daemon must rewrite the row it owns
        # a field of, and keep what the officer owns.
        sis.edit_flag(k.server, flag, {"status": "dismissed", "dismissed_date": on, "label": "Edited"})
        edited = k.sync()
        assert edited.ok, edited.errors
        assert edited.officer_actions >= 1
        assert edited.writes.updated >= 1
        kept = k.row(flag.sync_key)
        assert kept is not None
        assert kept.columns["label"] == flag.columns["label"]
        assert (kept.columns.get("status"), kept.columns.get("dismissed_date")) == ("dismissed", on)

        dcid = sis.dcid_of(k.server.district, flag.sis_ref)
        for row in k.server.district.attendance_of(dcid):
            if row.att_code in UNEXCUSED:  # the designation no longer holds: the flag is not wanted
                k.control("POST", "attendance/correct", {"dcid": row.dcid, "att_code": "EX"})
        corrected = k.sync()
        assert corrected.ok, corrected.errors
        worked = k.row(flag.sync_key)
        assert worked is not None
        assert (worked.columns.get("status"), worked.columns.get("dismissed_date")) == ("dismissed", on)


@pytest.mark.slow
@each_plugin
def test_a_no_change_cycle_reads_back_only_changed_rows_and_evaluates_no_one(
    sis: SisUnderTest, tmp_path: Path
) -> None:
    with kit(sis, tmp_path) as k:
        first = k.sync()
        assert first.evaluated == first.students > 0
        assert k.requests_to(sis.calendar_paths) > 0
        k.sync()  # reads back the rows the first cycle wrote
        # A change marker of one-second resolution cannot tell a row saved again in the second a read
        # ran in: the last second's rows are read again until a read begins well after it.
        time.sleep(SETTLED.total_seconds())
        k.sync()
        k.control("DELETE", "stats")
        quiet = k.sync()
        assert quiet.ok, quiet.errors
        assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)
        assert quiet.pulled.get("readback", 0) == 0
        assert quiet.evaluated == 0
        # at most a page (and a deletes query) per resource, however many rows the SIS holds
        assert k.requests_to(sis.readback_paths) <= 2 * len(sis.readback_paths)
        assert k.requests_to(sis.calendar_paths) == 0  # district-sized: read on the reconcile schedule
        assert quiet.cases == first.cases
        assert quiet.open_cases == first.open_cases


@pytest.mark.slow
@each_plugin
def test_an_officers_edit_between_cycles_is_seen_by_an_incremental_cycle(
    sis: SisUnderTest, tmp_path: Path
) -> None:
    with kit(sis, tmp_path) as k:
        task = _settled_open_task(k)
        sis.close_task(k.server, task, PINNED_AS_OF)
        seen = k.sync()
        assert seen.ok, seen.errors
        assert seen.officer_actions >= 1
        assert seen.evaluated == 1  # only the student whose task the officer closed
        assert k.sync().evaluated == 0
        kept = next(row for row in k.rows() if row.sync_key == task.sync_key)
        assert k.officer_done(kept)


@pytest.mark.slow
@each_plugin
def test_a_row_deleted_in_the_sis_is_restored_by_the_next_full_reconcile(
    sis: SisUnderTest, tmp_path: Path
) -> None:
    with kit(sis, tmp_path) as k:
        task = _settled_open_task(k)
        sis.delete_task(k.server, task)
        # a SIS that reports deletions (Ed-Fi /deletes) restores it at once; one that cannot
        # (PowerSchool) at the full read on the reconcile schedule
        incremental = k.sync()
        assert incremental.ok, incremental.errors
        assert incremental.writes.created <= 1
        reconciled = k.sync(full=True)
        assert reconciled.ok, reconciled.errors
        assert incremental.writes.created + reconciled.writes.created == 1
        assert reconciled.evaluated == reconciled.students
        keys = Counter(row.sync_key for row in k.rows())
        assert keys[task.sync_key] == 1


@pytest.mark.slow
@each_plugin
def test_a_refused_row_is_counted_and_the_other_rows_are_written(sis: SisUnderTest, tmp_path: Path) -> None:
    with kit(sis, tmp_path) as k:
        k.control(
            "POST", "faults", {"path_prefix": sis.create_path, "status": 400, "count": 1, "method": "POST"}
        )
        first = k.sync()
        planned = sum(first.planned["created"].values())
        assert (first.writes.failed, first.writes.created) == (1, planned - 1)
        assert any("1 write(s) refused" in error for error in first.errors)
        repaired = k.sync()
        assert repaired.ok, repaired.errors
        assert repaired.writes.created == 1


@pytest.mark.slow
@each_plugin
def test_a_kill_9_mid_first_sync_resumes_without_a_duplicate(sis: SisUnderTest, tmp_path: Path) -> None:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["truancy.daemon.cli", "tests.daemon.service_support"])
    with kit(sis, tmp_path) as k:
        killed = [kill_after(context, k.config, k.server.url, count) for count in KILL_POINTS]
        assert killed[0], "the first kill must land inside the first sync"
        resumed = k.sync()
        assert resumed.ok, resumed.errors
        keys = Counter(row.sync_key for row in k.rows())
        assert keys
        assert max(keys.values()) == 1
        again = k.sync()
        assert (again.writes.created, again.writes.updated, again.writes.deleted) == (0, 0, 0)


@pytest.mark.slow
@each_plugin
def test_a_code_map_change_re_evaluates_from_the_store(sis: SisUnderTest, tmp_path: Path) -> None:
    with kit(sis, tmp_path) as k:
        first = k.sync()
        assert first.cases.get("truant", 0) > 0
        k.with_code_map(lambda text: text.replace("category: unexcused", "category: excused"))
        remapped = k.sync(allow_retractions=True)
        assert remapped.ok, remapped.errors
        assert remapped.cases.get("truant", 0) < first.cases["truant"]
        assert remapped.pulled.get("attendance", 0) < first.pulled["attendance"]
        assert remapped.evaluated == remapped.students  # every student, from the store
        assert remapped.writes.deleted > 0


def _settled_open_task(k: Kit) -> RemoteRow:
    """After a first sync and the cycle that reads its writes back: a task no officer has closed."""
    assert k.sync().ok
    k.sync()
    return next(row for row in k.rows() if row.kind is WriteKind.TASK and not k.officer_done(row))


def test_a_plugin_missing_a_member_is_refused_at_start_up_naming_it() -> None:
    check_contract(EdFiPlugin, "plugin 'edfi'")
    members = {name: getattr(EdFiPlugin, name) for name in dir(EdFiPlugin) if not name.startswith("_")}
    del members["officer_action"], members["streams"]
    partial = type("Partial", (), members)
    with pytest.raises(PluginConfigError, match=r"^plugin 'partial' lacks officer_action, streams \("):
        check_contract(partial, "plugin 'partial'")
