"""The contract kit: what every SIS plugin must do, through the real ``SyncPipeline``, against the
built-in sandbox over HTTP. A plugin is accepted when ``tests/plugins/test_contract.py`` passes with
its :class:`SisUnderTest` in ``PLUGINS``.

A plugin brings only what an officer or a test does *inside* its SIS (the kit cannot know where a
task is marked done in a product it has never seen): how to close a task, where a created row is
sent (so one can be refused), and how its SIS keys name the sandbox's students. Everything else —
the config (its ``sandbox_settings`` capability), the cycles, the cursors, the read-back — goes
through the plugin contract alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.http import HttpSession
from truancy.connector.powerschool import PowerSchoolClient, powerschool_auth
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.ingest import ATTENDANCE_STREAM, ROSTER_STREAM
from truancy.daemon.pipeline import CycleSummary, SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.sandbox_sis import SandboxSis
from truancy.daemon.settings import Settings, load_settings
from truancy.daemon.store import read_bookmark
from truancy.mappings.writes import WriteKind
from truancy.plugins.base import Cursor, FieldOwnership, RemoteRow
from truancy.sandbox.model import District
from truancy.sandbox.server import SandboxServer, sandbox_facts, write_daemon_config

IN_ATTENDANCE = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance"
UNEXCUSED = frozenset({"A", "UNX", "T", "T30", "UT", "ED"})
"""The sandbox district's codes that count against a student (what a correction re-codes)."""


@dataclass(frozen=True)
class SisUnderTest:
    """What one plugin tells the kit about its own SIS."""

    name: str
    create_path: str
    """The sandbox path a created task is POSTed to (the kit refuses one such write)."""
    dcid_of: Callable[[District, str], int]
    """The sandbox student behind one of the plugin's SIS keys."""
    close_task: Callable[[SandboxServer, RemoteRow, date], None]
    """Mark a task done as an officer does in that SIS."""
    edit_flag: Callable[[SandboxServer, RemoteRow, Mapping[str, str]], None]
    """Change a flag's canonical fields where that SIS shows them, as an officer editing it does."""
    delete_task: Callable[[SandboxServer, RemoteRow], None]
    """Delete a task inside the SIS, as an administrator might."""
    readback_paths: tuple[str, ...]
    """The sandbox paths the plugin reads its truancy rows back from (request counts are kept per path)."""
    calendar_paths: tuple[str, ...]
    """The sandbox paths the plugin reads the school calendars from."""


class Kit:
    """A sandbox district and a daemon pointed at it by the plugin's own sandbox settings."""

    def __init__(self, server: SandboxServer, sis: SisUnderTest, folder: Path) -> None:
        self.server, self.sis = server, sis
        self.config = folder / "truancy.toml"
        section = SandboxSis(sis.name).section(sandbox_facts(server.url, server.as_of))
        write_daemon_config(self.config, server.url, section)
        self.settings: Settings = load_settings(self.config)

    def sync(self, *, allow_retractions: bool = False, full: bool = False) -> CycleSummary:
        with runtime(self.settings) as rt:
            guard = RetractionGuard(allow=allow_retractions)
            pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, guard=guard)
            return pipeline.run_cycle(today=self.server.as_of, full=full)

    def requests_to(self, paths: tuple[str, ...]) -> int:
        """Requests the plugin made to these paths since the sandbox's counts were reset."""
        response = requests.get(f"{self.server.url}/_sandbox/stats", timeout=10)
        response.raise_for_status()
        counts: dict[str, int] = response.json()["requests"]
        return sum(n for path, n in counts.items() if path.lower().startswith(paths))

    def cursors(self) -> dict[str, float]:
        """Each source stream's stored position."""
        with runtime(self.settings) as rt, rt.engine.connect() as connection:
            found = {
                s: Cursor.loads(read_bookmark(connection, s)) for s in (ROSTER_STREAM, ATTENDANCE_STREAM)
            }
        return {stream: cursor.position for stream, cursor in found.items() if cursor is not None}

    def rows(self) -> list[RemoteRow]:
        """The SIS's truancy rows as the plugin reads them back."""
        with runtime(self.settings) as rt:
            return list(rt.plugin.read_back())

    def row(self, sync_key: str | None) -> RemoteRow | None:
        return next((row for row in self.rows() if row.sync_key == sync_key), None)

    def ownership(self) -> FieldOwnership:
        with runtime(self.settings) as rt:
            return rt.plugin.ownership

    def officer_done(self, row: RemoteRow) -> bool:
        with runtime(self.settings) as rt:
            action = rt.plugin.officer_action(row)
        return action is not None and action.kind == "task_done"

    def control(self, method: str, path: str, body: object = None) -> None:
        response = requests.request(method, f"{self.server.url}/_sandbox/{path}", json=body, timeout=10)
        response.raise_for_status()

    def with_code_map(self, edit: Callable[[str], str]) -> Path:
        """Point the daemon at an edited copy of the plugin's code map in force."""
        with runtime(self.settings) as rt:
            current = next(Path(s.path) for s in rt.plugin.mapping_sources if s.kind == "code_map")
        edited = self.config.parent / "edited-codes.yaml"
        edited.write_text(edit(current.read_text(encoding="utf-8")), encoding="utf-8")
        text = self.config.read_text(encoding="utf-8")
        start = text.index("[sis]")
        lines = [line for line in text[start:].splitlines() if not line.startswith("code_map =")]
        lines.insert(2, f"code_map = {json.dumps(str(edited))}")
        self.config.write_text(text[:start] + "\n".join(lines) + "\n", encoding="utf-8")
        self.settings = load_settings(self.config)
        return edited


@contextmanager
def kit(sis: SisUnderTest, folder: Path, *, students: int = 120, seed: int = 7) -> Iterator[Kit]:
    with SandboxServer(students=students, seed=seed, as_of=PINNED_AS_OF) as server:
        yield Kit(server, sis, folder)


# -- what each plugin's SIS looks like from the inside ------------------------------------------


def _close_powerschool_task(server: SandboxServer, row: RemoteRow, on: date) -> None:
    options = json.loads(row.columns.get("outcome_options") or "[]")
    outcome = options[0]["code"] if options else "other"
    with HttpSession(server.url, auth=powerschool_auth(server.url, "sandbox", "sandbox")) as session:
        PowerSchoolClient(session).update_row(
            "U_TRUANCY_TASKS",
            row.remote_id,
            {"status": "done", "completed_date": on.isoformat(), "outcome": outcome},
        )


def _edit_powerschool_flag(server: SandboxServer, row: RemoteRow, changes: Mapping[str, str]) -> None:
    """The shipped field map names each column as its canonical field."""
    with HttpSession(server.url, auth=powerschool_auth(server.url, "sandbox", "sandbox")) as session:
        PowerSchoolClient(session).update_row("U_TRUANCY_FLAGS", row.remote_id, changes)


def _delete_powerschool_task(server: SandboxServer, row: RemoteRow) -> None:
    with HttpSession(server.url, auth=powerschool_auth(server.url, "sandbox", "sandbox")) as session:
        PowerSchoolClient(session).delete_row("U_TRUANCY_TASKS", row.remote_id)


def _edfi_headers(server: SandboxServer) -> dict[str, str]:
    token = requests.post(
        f"{server.url}/edfi/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox", "sandbox"),
        timeout=10,
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _edit_edfi_flag(server: SandboxServer, row: RemoteRow, changes: Mapping[str, str]) -> None:
    """A flag is a student indicator: label its group, status its value, dismissed_date its period's end."""
    headers = _edfi_headers(server)
    association_id, name = row.remote_id.split("/", 1)
    url = f"{server.url}/edfi/data/v3/ed-fi/studentEducationOrganizationAssociations/{association_id}"
    association = requests.get(url, headers=headers, timeout=10).json()
    indicator = next(item for item in association["studentIndicators"] if item["indicatorName"] == name)
    for field, value in changes.items():
        if field == "dismissed_date":
            indicator["periods"][0]["endDate"] = value
        else:
            indicator[{"label": "indicatorGroup", "status": "indicator"}[field]] = value
    body = {key: value for key, value in association.items() if key not in ("id", "_etag")}
    requests.put(url, json=body, headers=headers, timeout=10).raise_for_status()


def _delete_edfi_task(server: SandboxServer, row: RemoteRow) -> None:
    url = f"{server.url}/edfi/data/v3/ed-fi/studentInterventionAssociations/{row.remote_id}"
    requests.delete(url, headers=_edfi_headers(server), timeout=10).raise_for_status()


def _close_edfi_task(server: SandboxServer, row: RemoteRow, on: date) -> None:
    headers = _edfi_headers(server)
    data = f"{server.url}/edfi/data/v3/ed-fi"
    association = requests.get(
        f"{data}/studentInterventionAssociations/{row.remote_id}", headers=headers, timeout=10
    ).json()
    created = requests.post(
        f"{data}/studentInterventionAttendanceEvents",
        json={
            "attendanceEventCategoryDescriptor": IN_ATTENDANCE,
            "eventDate": on.isoformat(),
            "attendanceEventReason": "sent_mail",
            "interventionReference": association["interventionReference"],
            "studentReference": association["studentReference"],
        },
        headers=headers,
        timeout=10,
    )
    created.raise_for_status()


def _edfi_dcid(district: District, student_unique_id: str) -> int:
    return next(s.dcid for s in district.students if s.student_number == student_unique_id)


PLUGINS = (
    SisUnderTest(
        name="powerschool",
        create_path="/ws/schema/table/u_truancy_tasks",
        dcid_of=lambda _district, dcid: int(dcid),
        close_task=_close_powerschool_task,
        edit_flag=_edit_powerschool_flag,
        delete_task=_delete_powerschool_task,
        calendar_paths=("/ws/schema/query/com.truancysync.calendar.days.insession",),
        readback_paths=(
            "/ws/schema/table/u_truancy_flags",
            "/ws/schema/table/u_truancy_notes",
            "/ws/schema/table/u_truancy_tasks",
        ),
    ),
    SisUnderTest(
        name="edfi",
        create_path="/edfi/data/v3/ed-fi/studentInterventionAssociations",
        dcid_of=_edfi_dcid,
        close_task=_close_edfi_task,
        edit_flag=_edit_edfi_flag,
        delete_task=_delete_edfi_task,
        calendar_paths=("/edfi/data/v3/ed-fi/calendardates",),
        readback_paths=tuple(
            f"/edfi/data/v3/ed-fi/{resource}"
            for resource in (
                "studentEducationOrganizationAssociations",
                "studentInterventionAssociations",
                "studentInterventionAttendanceEvents",
            )
        ),
    ),
)


def open_flags(rows: list[RemoteRow]) -> list[RemoteRow]:
    return [row for row in rows if row.kind is WriteKind.FLAG]
