"""The daemon's diff by declared field ownership, with a fake write target (tests/daemon/fake_plugin.py):
what is updated, what the officer overrode, what may be retracted, and which declarations are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon.fake_plugin import DECLARED, LABEL_LIMIT, FakeWriteTarget
from tests.daemon.test_outbox_plan import CONFIG
from truancy.daemon.evaluate import Target
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.officer import OfficerWork
from truancy.daemon.outbox import plan_writes
from truancy.daemon.ownership import may_retract, needs_update, overridden
from truancy.mappings.case import Override
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import ConnectionOptions, Ownership, PluginConfigError, check_contract
from truancy.plugins.edfi import EdFiPlugin
from truancy.plugins.powerschool import PowerSchoolPlugin
from truancy.plugins.powerschool.plugin import DEFAULT_FIELD_MAP

SIS = FakeWriteTarget()
FLAG = {"label": "Truant", "since_date": "2025-10-01", "status": "active", "writer": "ab12", "tier": "t1"}
TASK = {"title": "Send the letter", "due_date": "2025-10-08", "status": "open", "writer": "ab12"}


def write(kind: WriteKind, logical_id: str = "truant", **fields: str) -> DesiredWrite:
    base = FLAG if kind is WriteKind.FLAG else TASK
    return DesiredWrite.build(kind, "stu-1", "2025-26", logical_id, {**base, **fields})


def test_only_a_daemon_owned_difference_is_an_update() -> None:
    flag = write(WriteKind.FLAG)
    assert not needs_update(SIS.row(flag), flag, SIS)
    assert needs_update(SIS.row(flag, label="Edited"), flag, SIS)
    assert not needs_update(SIS.row(flag, status="dismissed", dismissed_date="2025-10-09"), flag, SIS)
    # the SIS holds no tier: a field it does not keep is never a difference
    assert not needs_update(SIS.row(flag), write(WriteKind.FLAG, tier="t2"), SIS)


def test_a_value_the_sis_clips_is_compared_as_stored_so_it_is_not_rewritten_every_cycle() -> None:
    long = write(WriteKind.FLAG, label="Habitually truant, third report")
    held = SIS.row(long)
    assert len(held.columns["label"]) == LABEL_LIMIT
    assert not needs_update(held, long, SIS)


def test_what_the_officer_overrode_is_an_officer_owned_field_the_write_sets() -> None:
    task = write(WriteKind.TASK)
    assert overridden(SIS.row(task), task, SIS) == ()
    cancelled = SIS.row(task, status="cancelled", completed_date="2025-10-05")
    assert overridden(cancelled, task, SIS) == ("status",)  # the write sets no completed_date
    assert overridden(SIS.row(task, title="Edited"), task, SIS) == ()  # the daemon's, not the officer's
    work = OfficerWork(SIS, rows={task.sync_key: cancelled})  # type: ignore[arg-type]
    assert work.overrides([task]) == [Override(task.sync_key, WriteKind.TASK, "status")]


def test_a_row_is_retracted_only_while_the_declaration_allows() -> None:
    task, flag = write(WriteKind.TASK), write(WriteKind.FLAG)
    assert may_retract(SIS.row(task), SIS)
    assert not may_retract(SIS.row(task, status="done"), SIS)
    assert not may_retract(SIS.row(flag, status="dismissed"), SIS)
    note = DesiredWrite.build(WriteKind.NOTE, "stu-1", "2025-26", "n", {"note_text": "Met truant"})
    assert not may_retract(SIS.row(note), SIS)  # retract_while None: never
    undeclared = FakeWriteTarget({WriteKind.FLAG: DECLARED[WriteKind.FLAG]})
    assert not may_retract(SIS.row(task), undeclared)
    assert not needs_update(SIS.row(task, title="Edited"), task, undeclared)


def test_the_plan_and_the_guard_follow_the_declaration() -> None:
    kept, relabelled = write(WriteKind.FLAG, "kept"), write(WriteKind.FLAG, "relabelled")
    gone_open, gone_done = write(WriteKind.TASK, "open"), write(WriteKind.TASK, "done")
    rows = [
        SIS.row(kept, "1", status="dismissed"),
        SIS.row(relabelled, "2", label="Edited"),
        SIS.row(gone_open, "3"),
        SIS.row(gone_done, "4", status="done"),
    ]
    desired = {w.sync_key: Target(w, "10001") for w in (kept, relabelled)}
    plan = plan_writes(desired, rows, SIS)  # type: ignore[arg-type]
    assert [(remote.remote_id, target.write) for remote, target in plan.updates] == [("2", relabelled)]
    assert [row.remote_id for row in plan.deletes] == ["3"]
    assert [row.remote_id for row in plan.retractions] == ["3"]
    assert plan.unchanged == 1
    held = RetractionGuard(rows=0, share=0.0).check(plan, rows, SIS)  # type: ignore[arg-type]
    assert held is not None
    assert held.open_rows == 2  # the active flag and the open task; dismissed and done rows are not open


@pytest.mark.parametrize(
    ("ownership", "problem"),
    [
        (
            {**DECLARED, WriteKind.FLAG: Ownership(frozenset({"label", "status"}), frozenset({"status"}))},
            "flag field 'status': owned by both the daemon and the officer",
        ),
        (
            {
                **DECLARED,
                WriteKind.TASK: Ownership(frozenset({"title"}), frozenset({"status"}), {"title": "x"}),
            },
            "task field 'title': a retraction condition must name an officer-owned field; this is a daemon",
        ),
        (
            {**DECLARED, WriteKind.TASK: Ownership(frozenset(), frozenset({"status"}), {"statuss": "open"})},
            "task field 'statuss': a retraction condition must name an officer-owned field; this is not",
        ),
        (
            {**DECLARED, WriteKind.TASK: Ownership(frozenset(), frozenset({"status"}), {})},
            "task field 'status': rows an officer has worked would be retracted",
        ),
        ({WriteKind.FLAG: DECLARED[WriteKind.FLAG]}, "no ownership is declared for note rows"),
    ],
)
def test_an_inconsistent_declaration_is_refused_at_start_up_naming_the_plugin_and_the_field(
    ownership: dict[WriteKind, Ownership], problem: str
) -> None:
    members = {name: getattr(EdFiPlugin, name) for name in dir(EdFiPlugin) if not name.startswith("_")}
    broken = type("Broken", (), {**members, "ownership": ownership})
    with pytest.raises(PluginConfigError) as refused:
        check_contract(broken, "plugin 'broken'")
    message = str(refused.value)
    assert message.startswith("plugin 'broken' declares an inconsistent field ownership: ")
    assert problem in message
    assert "\n" not in message


def test_the_shipped_plugins_declare_a_consistent_ownership(tmp_path: Path) -> None:
    check_contract(EdFiPlugin, "plugin 'edfi'")  # declared by the class: checked when it loads
    built = PowerSchoolPlugin(CONFIG, options=ConnectionOptions(), config_dir=tmp_path)
    check_contract(built, "plugin 'powerschool'")  # from the district's field map: once built
    assert built.ownership[WriteKind.TASK].retract_while == {"status": "open"}
    assert built.ownership[WriteKind.NOTE].retract_while is None
    built.close()


def test_a_powerschool_field_map_that_lets_the_daemon_retract_worked_rows_fails_its_check(
    tmp_path: Path,
) -> None:
    shipped = DEFAULT_FIELD_MAP
    edited = tmp_path / "fieldmap.yaml"
    text = shipped.read_text(encoding="utf-8")
    edited.write_text(
        text.replace("deletable_when: {status: open}", "deletable_when: {title: x}"), encoding="utf-8"
    )
    found = PowerSchoolPlugin.check_field_map(edited)
    assert found.fits
    assert [(p.key, p.problem) for p in found.problems] == [
        (
            "task.deletable_when",
            "task field 'title': a retraction condition must name an officer-owned field; this is a "
            "daemon-owned field",
        )
    ]
    assert found.problems[0].line == text[: text.index("deletable_when: {status: open}")].count("\n") + 1
    assert not PowerSchoolPlugin.check_field_map(shipped).problems
