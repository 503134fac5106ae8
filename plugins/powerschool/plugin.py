"""PowerSchool: rosters over OneRoster (1.1, 1.2 or CSV), attendance by PowerQuery, write-back to tables."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.powerschool import PowerSchoolClient, powerschool_auth
from truancy.mappings.case import OfficerAction
from truancy.mappings.casework_records import Attempt, CaseFile, PacketRequest
from truancy.mappings.codemap import CodeEntry, CodeMap, Quarantined, RawMark, load_code_map, normalise
from truancy.mappings.discover import ObservedCode
from truancy.mappings.facts import AttendanceEvent, SchoolCalendar
from truancy.mappings.fieldmap import FieldMap, TableMap, load_field_map, undefined_tables_and_columns
from truancy.mappings.notices_contacts import GuardianContact
from truancy.mappings.report_figures import FigureTableMap
from truancy.mappings.writes import DesiredWrite, WriteKind, is_sync_key
from truancy.mappings.yaml_source import MappingFileError, parse_yaml
from truancy.plugins.base import (
    AttendanceChange,
    AttendancePage,
    Capabilities,
    ConnectionOptions,
    Cursor,
    FieldMapFindings,
    MappingSource,
    OfficerRowError,
    Ownership,
    PluginConfigError,
    ReadBackPage,
    Rejected,
    RemoteRow,
    RosterPage,
    SandboxFacts,
    StreamSpec,
    StudentResolver,
    ownership_problems,
)
from truancy.plugins.oneroster import OneRosterRoster, open_roster_source
from truancy.plugins.powerschool.build import PowerSchoolBundle, read_extension_tables
from truancy.plugins.powerschool.casework import (
    packet_requests,
    read_case_file,
    read_case_files,
    record_packet,
    write_attempts,
    write_plan_progress,
)
from truancy.plugins.powerschool.config import PowerSchoolConfig
from truancy.plugins.powerschool.figures import PowerSchoolFigures
from truancy.plugins.powerschool.guardians import guardian_contacts

HERE = Path(__file__).resolve().parent
DEFAULT_CODE_MAP = HERE / "codes.yaml"
DEFAULT_FIELD_MAP = HERE / "fieldmap.yaml"

ATTENDANCE_QUERY = "com.truancysync.attendance.daily.records"
CALENDAR_QUERY = "com.truancysync.calendar.days.insession"
OUTCOME_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
"""Task outcomes are codes the page offers for the task's type (``held``, ``sent_mail``...); anything
else is kept as ``other``. A task the page left open (a conference rescheduled) is no action."""
CODES_QUERY = "com.truancysync.attendance.codes.table"
SECOND = timedelta(seconds=1)
SEEN_AT_WATERMARK = 2000
"""Rows of the watermark's second a read-back cursor remembers (see ``read_back_pages``)."""
SETTLED = timedelta(seconds=2)
"""How long after the watermark's second a read must begin for that second's rows to be passed over."""


class PowerSchoolPlugin(PowerSchoolFigures):
    """Glue between PowerSchool's APIs and canonical facts and writes."""

    name = "powerschool"
    logs_notices = True
    """Family letters are logged as rows of U_TRUANCY_NOTICES (WriteKind.NOTICE), not as notes."""
    streams: Mapping[str, StreamSpec] = {
        "roster": StreamSpec("Rosters (OneRoster)"),
        "attendance": StreamSpec("Attendance (PowerQuery)", sorted=True),
        "readback": StreamSpec("Truancy tables (U_TRUANCY_*)"),
    }

    def __init__(self, config: Mapping[str, Any], *, options: ConnectionOptions, config_dir: Path) -> None:
        self.config = PowerSchoolConfig.from_mapping(config, config_dir)
        self.code_map: CodeMap = load_code_map(self.config.code_map or DEFAULT_CODE_MAP)
        self.field_map: FieldMap = load_field_map(self.config.field_map or DEFAULT_FIELD_MAP)
        self._field_map_path = self.config.field_map or DEFAULT_FIELD_MAP
        self.figure_map = self.field_map.figure or _shipped_figure_map()
        self._tables = {kind: self.field_map.for_kind(kind) for kind in self.field_map.kinds()}
        if WriteKind.NOTICE not in self._tables:  # a district map older than the notices table
            self._tables[WriteKind.NOTICE] = load_field_map(DEFAULT_FIELD_MAP).for_kind(WriteKind.NOTICE)
        self._ownership = {kind: table_ownership(table_map) for kind, table_map in self._tables.items()}
        retry = RetryPolicy(max_attempts=options.max_attempts)
        timeout = (options.connect_timeout, options.read_timeout)
        self.roster_source = open_roster_source(self.config.oneroster, options)
        self.roster = OneRosterRoster(self.roster_source, self.config.oneroster.student_ref_type)
        api = self.config.powerschool
        self._ps_session = HttpSession(
            api.base_url,
            auth=powerschool_auth(
                api.base_url, api.client_id, api.secret(), verify=options.verify_tls, name="sis.powerschool"
            ),
            timeout=timeout,
            retry=retry,
            verify=options.verify_tls,
            name="sis.powerschool",
        )
        self.powerschool = PowerSchoolClient(self._ps_session, page_size=api.page_size)

    @property
    def mapping_sources(self) -> tuple[MappingSource, ...]:
        code_map_path = self.config.code_map or DEFAULT_CODE_MAP
        field_map_digest = hashlib.sha256(self._field_map_path.read_bytes()).hexdigest()
        return (
            MappingSource("code_map", str(code_map_path.resolve()), self.code_map.digest),
            MappingSource("field_map", str(self._field_map_path.resolve()), field_map_digest),
        )

    @property
    def ownership(self) -> Mapping[WriteKind, Ownership]:
        """As the field map says: ``officer_columns`` are the officer's, ``retract``/``deletable_when``."""
        return self._ownership

    @classmethod
    def check_field_map(cls, path: Path) -> FieldMapFindings:
        """The map's schema, its tables and columns against the extension tables the bundle installs,
        and the ownership it declares."""
        tables = {
            table.name: frozenset(name.lower() for name in ("id", *table.column_names))
            for table in read_extension_tables()
        }
        try:
            return FieldMapFindings(
                True, [*undefined_tables_and_columns(path, tables), *ownership_errors(path)]
            )
        except MappingFileError as exc:
            return FieldMapFindings(False, [exc])

    @classmethod
    def capabilities(cls) -> Capabilities:
        return Capabilities(
            sandbox_settings=_sandbox_settings,
            bundle=PowerSchoolBundle(),
            student_page=lambda url, dcid: f"{url}/admin/students/home.html?frn=001{dcid}",
        )

    @property
    def sessions(self) -> tuple[HttpSession, ...]:
        roster = self.roster_source.session
        return (self._ps_session,) if roster is None else (roster, self._ps_session)

    def close(self) -> None:
        self.roster_source.close()
        self._ps_session.close()

    def guardian_contacts(self, student_ids: Iterable[str]) -> Iterator[GuardianContact]:
        """Guardians of the given students (OneRoster REST; a CSV package carries none we read)."""
        session = self.roster_source.session
        if session is None:
            return iter(())
        return guardian_contacts(session, student_ids)

    def casework_file(self, sis_ref: str) -> CaseFile:
        """The conferences, plans and referrals the officer recorded for one student (DCID)."""
        return read_case_file(self.powerschool, sis_ref)

    def casework_files(self) -> dict[str, CaseFile]:
        """Every student's casework by DCID, read once per cycle for the escalation preconditions."""
        return read_case_files(self.powerschool)

    def record_conference_attempts(self, record_id: str, attempts: tuple[Attempt, ...]) -> None:
        """Log the invitations and reminders sent for a conference in its SIS row."""
        write_attempts(self.powerschool, record_id, attempts)

    def record_plan_progress(self, record_id: str, progress: str) -> None:
        """Show the plan's measured progress in its SIS row."""
        write_plan_progress(self.powerschool, record_id, progress)

    def packet_requests(self) -> list[PacketRequest]:
        """Packets officers asked for in the SIS that are not built yet."""
        return packet_requests(self.powerschool)

    def record_packet(self, record_id: str, columns: Mapping[str, str]) -> None:
        """Name the built packet's file (or why it was refused) in the officer's request row."""
        record_packet(self.powerschool, record_id, columns)

    # -- rosters -------------------------------------------------------------------------------

    def roster_pages(self, cursor: str | None) -> Iterator[RosterPage]:
        """Rosters over OneRoster (REST or a CSV package), keyed to PowerSchool by the student's DCID."""
        return self.roster.pages(cursor)

    # -- calendar and attendance ---------------------------------------------------------------

    def calendars(self) -> list[SchoolCalendar]:
        days: dict[str, list[date]] = defaultdict(list)
        for rows in self.powerschool.iter_query(CALENDAR_QUERY):
            for row in rows:
                days[row["schoolid"]].append(date.fromisoformat(row["date_value"]))
        return [SchoolCalendar(school, tuple(sorted(set(d)))) for school, d in sorted(days.items())]

    def attendance_pages(self, cursor: str | None, resolve: StudentResolver) -> Iterator[AttendancePage]:
        """Rows modified after the cursor, in (whenmodified, dcid) order: each page is a checkpoint.

        A checkpoint stands one second before the page's last ``whenmodified``, so rows sharing
        that second that the next page would have carried are read again rather than skipped.
        """
        started = datetime.now(UTC)
        since = Cursor.loads(cursor)
        floor = watermark = _naive(since.position) if since is not None else None
        args: dict[str, str] = {}
        if floor is not None:
            overlap = timedelta(minutes=self.config.attendance_overlap_minutes)
            args["modified_since"] = (floor - overlap).isoformat(timespec="seconds")
        for rows in self.powerschool.iter_query(ATTENDANCE_QUERY, args):
            page = AttendancePage()
            last: datetime | None = None
            for row in rows:
                last = _later(last, _timestamp(row.get("whenmodified")))
                self._attendance_row(row, resolve, page)
            watermark = _later(watermark, last)
            if last is not None:
                page.cursor = _cursor(_later(floor, last - SECOND), None)
            yield page
        yield AttendancePage(cursor=_cursor(watermark, started), end=True)

    def _attendance_row(self, row: Mapping[str, str], resolve: StudentResolver, page: AttendancePage) -> None:
        source_key = row.get("dcid", "")
        quarantine_key = source_key or "<missing dcid>"
        student_id = resolve(row.get("studentsdcid", ""))
        if not source_key or student_id is None:
            page.rejected.append(Rejected("attendance", quarantine_key, "student is not in the roster"))
            return
        code = row.get("att_code", "")
        try:
            day = date.fromisoformat(row["att_date"])
            minutes = int(row["minutes"]) if row.get("minutes") else None
        except (KeyError, ValueError):
            page.rejected.append(Rejected("attendance", quarantine_key, "malformed att_date or minutes"))
            return
        # Every row is kept as the SIS holds it; an unmapped code is held in the store, not counted.
        mark = RawMark(student_id, day, code, minutes, row.get("schoolid") or None)
        counted = normalise(mark, self.code_map.categorize)
        if isinstance(counted, Quarantined) and self.code_map.categorize(code) is None:
            page.unknown_codes[code] += 1
        event = counted if isinstance(counted, AttendanceEvent) else None
        page.changes.append(AttendanceChange(source_key, event, mark))

    def categorize(self, code: str) -> CodeEntry | None:
        return self.code_map.categorize(code)

    # -- discovery -----------------------------------------------------------------------------

    def discover_codes(self) -> list[ObservedCode]:
        """The ATTENDANCE_CODE table merged across schools, with each code's rows this year.

        Reads the whole year's attendance once to count; a code used but missing from the table
        (a deleted code still on old rows) is reported too, without a description.
        """
        defined: dict[str, dict[str, str]] = {}
        for rows in self.powerschool.iter_query(CODES_QUERY):
            for row in rows:
                defined.setdefault(row.get("att_code", "").strip(), row)
        used: Counter[str] = Counter()
        with_minutes: Counter[str] = Counter()
        for rows in self.powerschool.iter_query(ATTENDANCE_QUERY):
            for row in rows:
                code = row.get("att_code", "").strip()
                used[code] += 1
                with_minutes[code] += bool(row.get("minutes"))
        return [
            ObservedCode(
                code=code,
                description=defined.get(code, {}).get("description", ""),
                present=_presence(defined.get(code, {}).get("presence_status_cd")),
                counts_for_ada=_yes_no(defined.get(code, {}).get("calculate_ada_yn")),
                occurrences=used[code],
                with_minutes=with_minutes[code],
            )
            for code in sorted((set(defined) | set(used)) - {""})
        ]

    # -- write-back ----------------------------------------------------------------------------

    def read_back(self) -> Iterator[RemoteRow]:
        for kind, table_map in self._tables.items():
            for rows in self.powerschool.iter_table(table_map.table):
                for row in rows:
                    yield _remote_row(kind, table_map, row)

    def read_back_pages(self, cursor: str | None) -> Iterator[ReadBackPage]:
        """The truancy rows saved since the cursor (None: all of them), one page per table page.

        Every database-extension table carries the tracking columns ``whencreated``/``whenmodified``
        (PowerSchool "Database Extensions Advanced User Guide", PowerSource article 70667; PSUG SoCal,
        "Database Extensions, Page Fragments and Plugins", 2014: "All tables get some tracking fields:
        whocreated, whencreated, whomodified, whenmodified"), and ``/ws/schema/table`` filters rows with
        the API's FIQL ``q`` (``=ge=``; support.powerschool.com/developer, "Query parameters"), so an
        incremental read asks for ``whenmodified=ge=`` its watermark. A deleted row leaves no trace to
        ask for: the daemon's full read on the reconcile schedule retires it.

        ``whenmodified`` has one-second resolution: the read starts at the watermark's second (a row
        saved in it after the last read is not skipped) and passes over the rows of that second it
        already has, which the cursor names, once that second had ended before the read began
        (``SETTLED``): a row saved again in the second the read ran in is read again, not lost. Of a
        note an officer wrote (no daemon sync key) only its student and date are kept: its text is
        the officer's, and nothing the daemon needs.
        """
        started = datetime.now(UTC)
        since = Cursor.loads(cursor)
        mark = _naive(since.position) if since is not None else None
        seen = set(since.state.get("seen", ())) if since is not None else set()
        q = f"whenmodified=ge={mark.isoformat(timespec='seconds')}" if mark is not None else None
        newest, at_newest = mark, set(seen)
        for kind, table_map in self._tables.items():
            for rows in self.powerschool.iter_table(table_map.table, q=q):
                page = ReadBackPage()
                for row in rows:
                    record = f"{table_map.table}:{row['id']}"
                    modified = _timestamp(row.get("whenmodified"))
                    if modified is not None and modified == mark and record in seen:
                        continue
                    if modified is not None and (newest is None or modified > newest):
                        newest, at_newest = modified, set()
                    if modified is not None and modified == newest:
                        at_newest.add(record)
                    page.records[record] = [_minimised(_remote_row(kind, table_map, row))]
                yield page
        if newest is None:
            yield ReadBackPage(end=True)
            return
        aware = newest if newest.tzinfo is not None else newest.replace(tzinfo=UTC)
        # A row saved again within the watermark's second after this read has the same whenmodified as
        # the row read: the second's rows are passed over next time only once it had ended well before
        # this read began (SETTLED allows for the SIS's clock and ours to differ by a little).
        settled = started - aware >= SETTLED
        remember = settled and len(at_newest) <= SEEN_AT_WATERMARK
        state = {"seen": sorted(at_newest)} if remember else {}
        yield ReadBackPage(cursor=Cursor(aware.timestamp(), started, state).dumps(), end=True)

    def stored_fields(self, write: DesiredWrite) -> Mapping[str, str]:
        """The fields the map places, as written: PowerSchool keeps the text it is given."""
        mapped = self._tables[write.kind].columns
        return {name: value for name, value in write.fields.items() if name in mapped}

    def officer_action(self, remote: RemoteRow) -> OfficerAction | None:
        table = self._tables[remote.kind].table
        if remote.kind is WriteKind.NOTE:
            if is_sync_key(remote.sync_key):
                return None
            on = _action_date(remote, table, "note_date")
            return OfficerAction("note_added", on, sync_key=f"officer-note-{remote.remote_id}")
        if not is_sync_key(remote.sync_key):
            return None
        status = _value(remote, "status")
        if remote.kind is WriteKind.TASK and status == "done":
            outcome = _value(remote, "outcome")
            return OfficerAction(
                "task_done",
                _action_date(remote, table, "completed_date"),
                outcome=outcome if OUTCOME_CODE.match(outcome) else "other" if outcome else None,
                sync_key=remote.sync_key,
            )
        if remote.kind is WriteKind.FLAG and status == "dismissed":
            on = _action_date(remote, table, "dismissed_date")
            return OfficerAction("flag_dismissed", on, sync_key=remote.sync_key)
        return None

    def writer_of(self, remote: RemoteRow) -> str | None:
        return _value(remote, "writer") or None

    def create(self, write: DesiredWrite, sis_ref: str) -> str:
        table_map = self._tables[write.kind]
        columns = table_map.to_columns(write.fields)
        columns[table_map.student_column] = sis_ref
        columns[table_map.sync_key_column] = write.sync_key
        return str(self.powerschool.insert_row(table_map.table, columns))

    def update(self, remote: RemoteRow, write: DesiredWrite) -> None:
        table_map, owned = self._tables[write.kind], self._ownership[write.kind].daemon
        columns = table_map.to_columns({name: v for name, v in write.fields.items() if name in owned})
        self.powerschool.update_row(table_map.table, remote.remote_id, columns)

    def delete(self, remote: RemoteRow) -> None:
        self.powerschool.delete_row(self._tables[remote.kind].table, remote.remote_id)


def _shipped_figure_map() -> FigureTableMap:
    """The shipped field map's figure table, for a district map written before it existed."""
    shipped = load_field_map(DEFAULT_FIELD_MAP).figure
    if shipped is None:
        raise PluginConfigError(f"{DEFAULT_FIELD_MAP.name} has no figure table")
    return shipped


def _remote_row(kind: WriteKind, table_map: TableMap, row: Mapping[str, str]) -> RemoteRow:
    """A table row in canonical fields (SIS column names stay here)."""
    return RemoteRow(
        kind=kind,
        remote_id=row["id"],
        sync_key=row.get(table_map.sync_key_column) or None,
        sis_ref=row.get(table_map.student_column, ""),
        columns={name: row[column] for name, column in table_map.columns.items() if column in row},
        saved_on=_day(row.get("whenmodified", "")),
    )


def _minimised(remote: RemoteRow) -> RemoteRow:
    """An officer's own note as the daemon keeps it: its date, not its text."""
    if remote.kind is not WriteKind.NOTE or is_sync_key(remote.sync_key):
        return remote
    kept = {name: value for name, value in remote.columns.items() if name == "note_date"}
    return replace(remote, columns=kept)


def _sandbox_settings(facts: SandboxFacts) -> dict[str, Any]:
    """Rosters from the sandbox's OneRoster 1.2 service, the rest from its PowerSchool API."""
    credentials = {"client_id": facts.client_id, "client_secret": facts.client_secret}
    return {
        "oneroster": {
            "base_url": f"{facts.url}/ims/oneroster/rostering/v1p2",
            "token_url": f"{facts.url}/oauth/token",
            **credentials,
        },
        "powerschool": {"base_url": facts.url, **credentials},
    }


def table_ownership(table_map: TableMap) -> Ownership:
    """The ownership one table of the field map declares, in canonical fields."""
    field_of = {column: name for name, column in table_map.columns.items()}
    officer = frozenset(
        name for name, column in table_map.columns.items() if column in table_map.officer_columns
    )
    retract_while = None
    if table_map.retract == "delete":
        retract_while = {field_of[column]: value for column, value in table_map.deletable_when.items()}
    return Ownership(frozenset(table_map.columns) - officer, officer, retract_while)


def ownership_errors(path: Path) -> list[MappingFileError]:
    """Each inconsistency of the ownership a field map declares, at its line."""
    document = parse_yaml(path.read_text(encoding="utf-8"), path.name)
    field_map = load_field_map(path)
    declared = {kind: table_ownership(field_map.for_kind(kind)) for kind in field_map.tables().values()}
    keys = {"officer": "officer_columns", "retract_while": "deletable_when", "ownership": "table"}
    return [
        document.error((problem.kind.value, keys[problem.part]), str(problem))
        for problem in ownership_problems(declared)
    ]


def _value(remote: RemoteRow, field: str) -> str:
    return remote.columns.get(field, "").strip()


def _action_date(remote: RemoteRow, table: str, field: str) -> date:
    """The date the officer gave, else the day PowerSchool last saved the row."""
    try:
        return date.fromisoformat(_value(remote, field))
    except ValueError:
        if remote.saved_on is not None:
            return remote.saved_on
    raise OfficerRowError(
        f"{table} row {remote.remote_id}: {field} is not a YYYY-MM-DD date and the row has no "
        "whenmodified; set the date in PowerSchool and the next sync applies it"
    )


def _day(timestamp: str) -> date | None:
    """The date of PowerSchool's ``whenmodified`` (None when absent or garbled)."""
    try:
        return date.fromisoformat(timestamp[:10])
    except ValueError:
        return None


def _cursor(watermark: datetime | None, read_at: datetime | None) -> str | None:
    """A cursor at ``watermark`` (naive PowerSchool times count as UTC), current as of ``read_at``
    (None for a checkpoint: the SIS is read up to the watermark only)."""
    if watermark is None:
        return None
    aware = watermark if watermark.tzinfo is not None else watermark.replace(tzinfo=UTC)
    return Cursor(aware.timestamp(), read_at or aware).dumps()


def _naive(position: float) -> datetime:
    """A cursor position as PowerSchool's zone-less ``whenmodified``."""
    return datetime.fromtimestamp(position, UTC).replace(tzinfo=None)


def _presence(value: str | None) -> bool | None:
    """PowerSchool's PRESENCE_STATUS_CD: "Present" or "Absent"; anything else says nothing."""
    return {"present": True, "absent": False}.get((value or "").strip().lower())


def _yes_no(value: str | None) -> bool | None:
    return {"1": True, "y": True, "0": False, "n": False}.get((value or "").strip().lower())


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    """The later of two instants: a bookmark never moves backwards."""
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _timestamp(value: str | None) -> datetime | None:
    """PowerSchool's ``whenmodified`` (server local time, no zone); None when absent or garbled."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
