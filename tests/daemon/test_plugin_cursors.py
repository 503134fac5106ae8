"""Cursors belong to the plugin: the daemon stores them verbatim, never moves them back, resumes a sorted
stream's interrupted first read at its checkpoint, and retires unseen records only at an end of stream.

Everything runs through the real ``SyncPipeline`` against the sandbox over HTTP, except the two
contract-breaking plugins, which are small fakes of the one thing under test (the stream protocol).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from tests.daemon.sandbox_sync import sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.ingest import ATTENDANCE_STREAM, ROSTER_STREAM, Ingest, StreamContractError, pass_key
from truancy.daemon.pipeline import CycleInterrupted, SyncPipeline
from truancy.daemon.progress import SilentReporter
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import attendance, students
from truancy.daemon.settings import load_settings
from truancy.daemon.status import read_status
from truancy.daemon.store import create_store_engine, read_bookmark, upgrade
from truancy.mappings.facts import Student
from truancy.plugins.base import Cursor, RosterPage, StreamSpec
from truancy.sandbox.server import SandboxServer

pytestmark = pytest.mark.slow


def edfi_config(tmp_path: Path, server: SandboxServer) -> Path:
    """A daemon config for the sandbox's Ed-Fi ODS/API, written as a district would."""
    year = max(day for school in server.district.schools for day in school.in_session).year
    path = tmp_path / "truancy.toml"
    path.write_text(
        f"""[district]
id = "sandbox-edfi"
state = "CA"

[store]
url = "sqlite:///{tmp_path / "state.db"}"

[sis]
plugin = "edfi"

[sis.edfi]
base_url = "{server.url}/edfi/"
client_id = "sandbox"
client_secret = "sandbox"
school_year = {year}
education_organization_id = 255901
""",
        encoding="utf-8",
    )
    return path


def positions(engine_url: str) -> dict[str, float]:
    engine = create_store_engine(engine_url)
    with engine.connect() as connection:
        found = {
            stream: Cursor.loads(read_bookmark(connection, stream))
            for stream in (ROSTER_STREAM, ATTENDANCE_STREAM)
        }
    engine.dispose()
    return {stream: cursor.position for stream, cursor in found.items() if cursor is not None}


def test_an_edfi_district_syncs_three_times_and_the_later_cycles_write_nothing(tmp_path: Path) -> None:
    with SandboxServer(students=80, seed=3, as_of=PINNED_AS_OF) as server:
        settings = load_settings(edfi_config(tmp_path, server))
        seen: list[dict[str, float]] = []
        summaries = []
        for _ in range(3):
            with runtime(settings) as rt:
                summaries.append(SyncPipeline(rt.engine, rt.plugin, rt.policy).run_cycle())
            seen.append(positions(settings.store.url))
        assert [s.errors for s in summaries] == [[], [], []]
        assert summaries[0].writes.created > 0
        for later_cycle in summaries[1:]:
            writes = later_cycle.writes
            assert (writes.created, writes.updated, writes.deleted) == (0, 0, 0)
        assert set(seen[0]) == {ROSTER_STREAM, ATTENDANCE_STREAM}
        for before, after in itertools.pairwise(seen):
            assert all(after[stream] >= before[stream] for stream in before)
        with runtime(settings) as rt:
            report = read_status(rt.engine)
        assert report.streams[ROSTER_STREAM].lag_seconds is not None
        assert report.streams[ATTENDANCE_STREAM].lag_seconds is not None


class _StopAfter:
    """A reporter that interrupts the cycle after ``pages`` attendance pages, as a shutdown would."""

    def __init__(self, pages: int) -> None:
        self.pages = pages

    def phase(self, description: str, total: int | None = None) -> _StopAfter:
        self.counting = description.startswith("Attendance")
        return self

    def advance(self, amount: int = 1) -> None:
        if self.counting:
            self.pages -= 1
            if self.pages == 0:
                raise CycleInterrupted

    def set_total(self, total: int) -> None:
        return None


def test_an_interrupted_first_read_of_a_sorted_stream_resumes_at_its_checkpoint(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=120) as district:
        settings = district.settings
        rows_in_sis = district.server.district.attendance_count()
        with runtime(settings) as rt:
            plugin = rt.plugin
            assert plugin.streams[ATTENDANCE_STREAM].sorted
            pipeline = SyncPipeline(rt.engine, plugin, rt.policy, reporter=_StopAfter(pages=2))
            with pytest.raises(CycleInterrupted):
                pipeline.run_cycle()
            with rt.engine.connect() as connection:
                unfinished = read_bookmark(connection, pass_key(ATTENDANCE_STREAM))
                stored_after_first = connection.execute(
                    select(func.count()).select_from(attendance)
                ).scalar_one()
                assert read_bookmark(connection, ATTENDANCE_STREAM) is None
        assert unfinished is not None
        assert '"cursor"' in unfinished
        assert 0 < stored_after_first < rows_in_sis

        resumed = district.sync()
        assert resumed.ok, resumed.errors
        assert 0 < resumed.pulled["attendance"] < rows_in_sis
        with runtime(settings) as rt, rt.engine.connect() as connection:
            assert read_bookmark(connection, pass_key(ATTENDANCE_STREAM)) is None
            assert read_bookmark(connection, ATTENDANCE_STREAM) is not None
            stored = connection.execute(select(func.count()).select_from(attendance)).scalar_one()
        full = district.sync(full=True)
        assert full.ok, full.errors
        assert (full.writes.created, full.writes.updated, full.writes.deleted) == (0, 0, 0)
        with runtime(settings) as rt, rt.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(attendance)).scalar_one() == stored


class _Roster:
    """A plugin whose roster stream is scripted page by page (everything else is never called)."""

    name = "scripted"
    streams: ClassVar[dict[str, StreamSpec]] = {ROSTER_STREAM: StreamSpec("Scripted roster")}

    def __init__(self, pages: list[RosterPage]) -> None:
        self.pages = pages

    def roster_pages(self, cursor: str | None) -> Iterator[RosterPage]:
        yield from self.pages


def _student(student_id: str) -> Student:
    return Student(student_id, student_id, "1", "05")


def _ingest(tmp_path: Path, pages: list[RosterPage], cycle: int) -> Ingest:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    return Ingest(engine, _Roster(pages), cycle, SilentReporter())  # type: ignore[arg-type]


def _live(ingest: Ingest) -> set[str]:
    with ingest.engine.connect() as connection:
        return set(connection.execute(select(students.c.student_id).where(~students.c.deleted)).scalars())


def test_only_an_end_of_stream_retires_what_a_full_read_did_not_see(tmp_path: Path) -> None:
    cursor = Cursor(5, None).dumps()
    first = _ingest(
        tmp_path, [RosterPage(students=[_student("a"), _student("b")], cursor=cursor, end=True)], 1
    )
    first.roster(full=True)
    assert _live(first) == {"a", "b"}

    # A page carrying a cursor is not the end: nothing is retired, and the stream reports the fault.
    checkpointed = _ingest(tmp_path, [RosterPage(students=[_student("a")], cursor=Cursor(6).dumps())], 2)
    with pytest.raises(StreamContractError, match="end-of-stream"):
        checkpointed.roster(full=True)
    assert _live(checkpointed) == {"a", "b"}

    ended = _ingest(
        tmp_path, [RosterPage(students=[_student("a")]), RosterPage(cursor=Cursor(7).dumps(), end=True)], 3
    )
    ended.roster()
    assert _live(ended) == {"a"}
    with ended.engine.connect() as connection:
        assert Cursor.loads(read_bookmark(connection, ROSTER_STREAM)) == Cursor(7)


def test_a_cursor_never_moves_backwards(tmp_path: Path) -> None:
    ahead = _ingest(tmp_path, [RosterPage(cursor=Cursor(9, None).dumps(), end=True)], 1)
    ahead.roster()
    behind = _ingest(tmp_path, [RosterPage(cursor=Cursor(4, None).dumps(), end=True)], 2)
    behind.roster()
    with behind.engine.connect() as connection:
        stored = Cursor.loads(read_bookmark(connection, ROSTER_STREAM))
    assert stored is not None
    assert stored.position == 9
