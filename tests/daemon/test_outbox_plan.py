"""The read-back diff: what gets created, updated, retracted or left alone, and what never is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from truancy.daemon.evaluate import Target
from truancy.daemon.outbox import plan_writes
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import ConnectionOptions, RemoteRow
from truancy.plugins.powerschool import PowerSchoolPlugin

CONFIG = {
    "oneroster": {
        "base_url": "http://127.0.0.1:9/ims/oneroster/rostering/v1p2",
        "token_url": "http://127.0.0.1:9/oauth/token",
        "client_id": "x",
        "client_secret": "y",
    },
    "powerschool": {"base_url": "http://127.0.0.1:9", "client_id": "x", "client_secret": "y"},
}


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[PowerSchoolPlugin]:
    plugin = PowerSchoolPlugin(CONFIG, options=ConnectionOptions(), config_dir=tmp_path)
    yield plugin
    plugin.close()


def flag(logical_id: str = "truant", **fields: str) -> Target:
    base = {
        "flag_type": logical_id,
        "label": "Truant",
        "citation": "Cal. Educ. Code § 48260(a)",
        "status": "active",
        "since_date": "2025-10-01",
        "detail": "3 occasions",
    }
    return Target(DesiredWrite.build(WriteKind.FLAG, "stu-1", "2025-26", logical_id, base | fields), "10001")


def remote(target: Target, remote_id: str = "1", **columns: str) -> RemoteRow:
    write = target.write
    return RemoteRow(
        kind=write.kind,
        remote_id=remote_id,
        sync_key=write.sync_key,
        sis_ref=target.sis_ref,
        columns={**write.fields, "id": remote_id, "sync_key": write.sync_key} | columns,
    )


def test_missing_rows_are_created(plugin: PowerSchoolPlugin) -> None:
    wanted = flag()
    plan = plan_writes({wanted.write.sync_key: wanted}, [], plugin)
    assert plan.creates == [wanted]
    assert plan.size == 1


def test_identical_rows_are_left_alone(plugin: PowerSchoolPlugin) -> None:
    wanted = flag()
    plan = plan_writes({wanted.write.sync_key: wanted}, [remote(wanted)], plugin)
    assert (plan.size, plan.unchanged) == (0, 1)


def test_changed_daemon_columns_are_updated(plugin: PowerSchoolPlugin) -> None:
    wanted = flag(detail="4 occasions")
    stale = remote(flag(detail="3 occasions"))
    plan = plan_writes({wanted.write.sync_key: wanted}, [stale], plugin)
    assert plan.updates == [(stale, wanted)]


def test_an_officers_status_is_never_overwritten(plugin: PowerSchoolPlugin) -> None:
    wanted = flag()
    dismissed = remote(wanted, status="dismissed")
    plan = plan_writes({wanted.write.sync_key: wanted}, [dismissed], plugin)
    assert (plan.size, plan.unchanged) == (0, 1)


def test_duplicates_keep_the_oldest_row(plugin: PowerSchoolPlugin) -> None:
    wanted = flag()
    rows = [remote(wanted, "12"), remote(wanted, "3"), remote(wanted, "40")]
    plan = plan_writes({wanted.write.sync_key: wanted}, rows, plugin)
    assert sorted(r.remote_id for r in plan.deletes) == ["12", "40"]
    assert plan.unchanged == 1


def test_retraction_respects_the_field_map(plugin: PowerSchoolPlugin) -> None:
    active = remote(flag("truant"), "1")
    dismissed = remote(flag("chronic_truant"), "2", status="dismissed")
    note = RemoteRow(WriteKind.NOTE, "3", "a" * 40, "10001", {"note_text": "Met truant"})
    open_task = RemoteRow(WriteKind.TASK, "4", "b" * 40, "10001", {"status": "open"})
    done_task = RemoteRow(WriteKind.TASK, "5", "c" * 40, "10001", {"status": "done"})
    officer_note = RemoteRow(WriteKind.NOTE, "6", None, "10001", {"note_text": "Called the family"})
    plan = plan_writes({}, [active, dismissed, note, open_task, done_task, officer_note], plugin)
    assert sorted(r.remote_id for r in plan.deletes) == ["1", "4"]
