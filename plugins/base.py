"""The contract between the daemon and a SIS plugin: the one page a third party needs.

A plugin is glue: it reads vendor records through a connector, turns them into canonical facts
with the district's code map, and turns canonical writes into SIS rows. It registers a class under
the ``truancy.plugins`` entry-point group (``[project.entry-points."truancy.plugins"]``), so a
district can install its own; :func:`load_plugin` refuses, naming them, any member it lacks.

What a new plugin writes (the members of :class:`SisPlugin` and :class:`PluginFactory`):

- settings: ``__init__(config, *, options, config_dir)`` validates its ``[sis]`` section
  (``truancy.plugins.config`` has the shared pieces; ``truancy.plugins.oneroster`` a whole OneRoster
  roster) and raises :class:`PluginConfigError` naming the key;
- a source: ``streams`` (a :class:`StreamSpec` per stream: progress label, sorted or not),
  ``roster_pages(cursor)`` and ``attendance_pages(cursor, resolve)`` yielding pages that end with an
  ``end`` page carrying the new :class:`Cursor` (the daemon stores it verbatim; only the end page
  retires what a full read did not see; a sorted stream's pages are checkpoints), ``calendars()``,
  ``discover_codes()``, ``categorize(code)`` (through its :class:`~truancy.mappings.codemap.CodeMap`:
  one lookup for the sync, ``mappings check`` and ``impact``) and ``mapping_sources``;
- a write target: ``ownership`` (an :class:`Ownership` per kind, as data: the fields the daemon
  owns and keeps in step, the fields the officer owns and the daemon never overwrites, and when
  a row no longer wanted may be retracted); ``read_back()`` yielding :class:`RemoteRow` in
  canonical fields (SIS column names stay in the plugin); ``read_back_pages(cursor)``, the same
  rows as a ``readback`` stream: those changed after ``cursor`` as :class:`ReadBackPage`, ending
  with an ``end`` page (None reads them all); ``stored_fields(write)``, a write as
  ``read_back`` will show it; ``officer_action`` (what an officer's edit means for the case);
  ``writer_of``; and ``create``/``update``/``delete``, where ``update`` writes only what the
  daemon owns. The daemon does the diff (what to create, update, retract, and what the officer
  overrode) from the declaration; ``check_contract`` refuses an inconsistent one at start-up;
- optionally, guardian contacts (:class:`GuardianSource`): ``guardian_contacts(student_ids)`` yields
  a :class:`~truancy.mappings.notices_contacts.GuardianContact` per guardian of the students asked
  for (only those: the daemon asks for students with a notice or a meeting due), never logged;
  without it a notice finds no guardian to go to and no meeting invitation is sent;
- optionally, health plans (:class:`HealthPlanSource`): ``health_plans(student_ids, on)`` returns the
  students asked for who have a Section 504 plan or an IEP in force on that day (Ed-Fi: special
  education and Section 504 program associations); a letter due for one of them is held for the
  officer instead of sent automatically. Only the yes/no leaves the plugin, never the plan. Without
  it only the illness share of the absences holds a letter: PowerSchool documents no core 504/IEP
  field (its special programs write state extension tables such as ``S_WA_STU_SPED_X``) and
  OneRoster 1.2 has none;
- optionally, district figures (:class:`truancy.plugins.figures.FigureTarget`): read, create, update
  and delete the outcomes report's published figures, rows that belong to no student; without it
  ``truancy report outcomes --to-sis`` says the plugin cannot hold them;
- failures as ``truancy.connector.errors``: a ``ConfigurationError`` or ``TransientError`` stops
  the cycle with its :class:`~truancy.connector.errors.FailureType`; a ``RowError`` refuses one row,
  which is counted while the others are written;
- ``check_field_map(path)`` (a field map's problems, its ownership included, by file and line) and
  ``capabilities()`` (:class:`Capabilities`: sandbox settings, an
  in-SIS bundle, a student page link), so no daemon command names a product;
- ``close()``.

A plugin is accepted when the contract kit (``tests/plugins/contract.py``) passes for it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from truancy.connector.http import HttpSession
from truancy.mappings.case import OfficerAction
from truancy.mappings.codemap import CodeEntry, RawMark
from truancy.mappings.discover import ObservedCode
from truancy.mappings.facts import AttendanceEvent, Enrollment, SchoolCalendar, Student
from truancy.mappings.notices_contacts import GuardianContact
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.mappings.yaml_source import MappingFileError

ENTRY_POINT_GROUP = "truancy.plugins"


class PluginConfigError(ValueError):
    """The plugin's section of the settings file cannot be used; the message says which key."""


class OfficerRowError(ValueError):
    """A row an officer edited that cannot be read as officer work; it stays in the SIS untouched.

    The message names the table and the row id, never its content."""


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """HTTP behaviour the district sets once for every connector a plugin opens."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    verify_tls: bool | str = True


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be used, kept with the reason and never with its content."""

    stream: str
    source_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far a stream has read. The daemon stores ``dumps()`` verbatim and hands it back.

    The plugin picks ``position``, a number that only grows as the stream advances (a change
    version, a POSIX timestamp of the newest modification read), so "never backwards" is decided
    here and nowhere else. ``as_of`` is when the SIS, up to this position, was last read: the
    stream's lag. ``state`` is anything else the plugin needs to resume, as JSON.
    """

    position: float
    as_of: datetime | None = None
    state: Mapping[str, Any] = field(default_factory=dict)

    def dumps(self) -> str:
        body: dict[str, Any] = {"position": self.position}
        if self.as_of is not None:
            body["as_of"] = self.as_of.astimezone(UTC).isoformat(timespec="seconds")
        if self.state:
            body["state"] = dict(self.state)
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None) -> Cursor | None:
        """The cursor a plugin handed out (None for a stream never read, or a value it did not write)."""
        if text is None:
            return None
        try:
            body = json.loads(text)
            as_of = datetime.fromisoformat(body["as_of"]) if body.get("as_of") else None
            return cls(float(body["position"]), as_of, dict(body.get("state") or {}))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def ahead_of(self, other: Cursor | None) -> bool:
        """Whether storing this cursor over ``other`` moves the stream on (or refreshes its lag)."""
        if other is None:
            return True
        if self.position != other.position:
            return self.position > other.position
        return self.as_of is not None and (other.as_of is None or self.as_of > other.as_of)

    def lag_seconds(self, now: datetime) -> float | None:
        if self.as_of is None:
            return None
        as_of = self.as_of if self.as_of.tzinfo is not None else self.as_of.replace(tzinfo=UTC)
        return max(0.0, (now - as_of).total_seconds())


def later(stored: str | None, candidate: str | None) -> str | None:
    """The cursor to keep of a stored one and a new one: a stream never moves backwards."""
    new = Cursor.loads(candidate)
    if new is None:
        return stored
    return candidate if new.ahead_of(Cursor.loads(stored)) else stored


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What the daemon needs to know about one source stream.

    ``label`` names it on progress bars. A ``sorted`` stream reads in cursor order, so each page's
    cursor is a checkpoint: an interrupted read resumes there instead of from the start.
    """

    label: str
    sorted: bool = False


@dataclass(slots=True)
class RosterPage:
    """One page of roster changes, applied to the store in one transaction.

    ``cursor``: where the stream stands after this page (a checkpoint on a sorted stream).
    ``end``: the stream is read to its end; only then are records a full read missed retired.
    """

    students: list[Student] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)
    deleted_students: list[str] = field(default_factory=list)
    deleted_enrollments: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cursor: str | None = None
    end: bool = False


@dataclass(frozen=True, slots=True)
class AttendanceChange:
    """The current state of one SIS attendance row.

    ``mark`` is the row as the SIS holds it (its own code, present and unknown codes included), or
    None when the SIS deleted the row; the daemon stores it and normalises it at every evaluation.
    ``event`` is what the mark counts as under the plugin's map today (None: present, deleted or
    quarantined).
    """

    source_key: str
    event: AttendanceEvent | None
    mark: RawMark | None = None


@dataclass(slots=True)
class AttendancePage:
    """One page of attendance changes; ``cursor`` and ``end`` as for :class:`RosterPage`."""

    changes: list[AttendanceChange] = field(default_factory=list)
    unknown_codes: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejected] = field(default_factory=list)
    cursor: str | None = None
    end: bool = False


@dataclass(frozen=True, slots=True)
class RemoteRow:
    """A truancy row as it stands in the SIS, read back each cycle, in canonical fields.

    ``columns`` holds the row's canonical field values (``status``, ``label``, ``note_text``…, the
    names of :class:`~truancy.mappings.writes.DesiredWrite`), never the SIS's own column names:
    the daemon diffs them against the desired writes by the plugin's :class:`Ownership`.
    ``saved_on`` is the day the SIS last saved the row, where it records one (the date of an
    officer's action when the officer left that date blank).
    """

    kind: WriteKind
    remote_id: str
    sync_key: str | None
    sis_ref: str
    columns: Mapping[str, str]
    saved_on: date | None = None


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owns each canonical field of one kind of row: the daemon diffs by this, no plugin code.

    ``daemon``: the fields the daemon writes and keeps in step (a difference is an update).
    ``officer``: the fields the officer owns; written at most once, when the row is created, then
    never overwritten; a value differing from the desired one is the officer's stand, logged on
    the case. ``retract_while``: when a row the daemon no longer wants may be deleted: ``None``
    never (a case log), else only while each named officer-owned field still holds its value (a
    task still ``open``: one an officer worked on stays).
    """

    daemon: frozenset[str]
    officer: frozenset[str] = frozenset()
    retract_while: Mapping[str, str] | None = None


FieldOwnership = Mapping[WriteKind, Ownership]
"""A plugin's ownership declaration, per kind of row it writes."""
REQUIRED_KINDS = (WriteKind.FLAG, WriteKind.NOTE, WriteKind.TASK)
"""The kinds every write target holds (a plugin may declare more)."""


@dataclass(frozen=True, slots=True)
class OwnershipProblem:
    """One inconsistency in an ownership declaration; ``part`` is the :class:`Ownership` member."""

    kind: WriteKind
    field: str
    part: str
    problem: str

    def __str__(self) -> str:
        return f"{self.kind.value} field {self.field!r}: {self.problem}" if self.field else self.problem


def ownership_problems(ownership: object) -> list[OwnershipProblem]:
    """Every inconsistency of a declaration: a kind left out, a field owned by both, a retraction
    condition on a field the officer does not own, rows the officer worked left retractable."""
    if not isinstance(ownership, Mapping):
        return [OwnershipProblem(WriteKind.FLAG, "", "ownership", "ownership is not declared per kind")]
    problems = [
        OwnershipProblem(kind, "", "ownership", f"no ownership is declared for {kind.value} rows")
        for kind in REQUIRED_KINDS
        if kind not in ownership
    ]
    for kind, declared in ownership.items():
        problems.extend(_problems_of(kind, declared))
    return problems


def _problems_of(kind: WriteKind, declared: Ownership) -> Iterator[OwnershipProblem]:
    for name in sorted(declared.daemon & declared.officer):
        yield OwnershipProblem(kind, name, "officer", "owned by both the daemon and the officer")
    if declared.retract_while is None:
        return
    for name in sorted(declared.retract_while):
        if name not in declared.officer:
            where = "a daemon-owned field" if name in declared.daemon else "not a field of the declaration"
            yield OwnershipProblem(
                kind,
                name,
                "retract_while",
                f"a retraction condition must name an officer-owned field; this is {where}",
            )
    if declared.officer and not declared.retract_while:
        first = sorted(declared.officer)[0]
        yield OwnershipProblem(
            kind,
            first,
            "retract_while",
            "rows an officer has worked would be retracted: retract only while an officer-owned field "
            "is untouched (e.g. status), or never",
        )


@dataclass(slots=True)
class ReadBackPage:
    """One page of the SIS's truancy rows, changed after the cursor the read started from.

    ``records`` maps each source record read whole (a PowerSchool table row, an Ed-Fi association)
    to the truancy rows it holds now: the daemon's mirror replaces what it held for that record (an
    empty list: none any more). ``deleted`` names records the SIS reports deleted. A SIS that cannot
    report deletions (PowerSchool) leaves them to a full read (cursor None), whose end retires
    every record it did not see. ``cursor`` and ``end`` as for :class:`RosterPage`.

    Store only what the diff and the officer's work need: an officer's own free text (a note not
    written by the daemon) is left out of ``columns``, except what ``officer_action`` reads.
    """

    records: dict[str, list[RemoteRow]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    cursor: str | None = None
    end: bool = False


@dataclass(frozen=True, slots=True)
class MappingSource:
    """One admin-edited file a plugin loaded (``kind``: code_map, field_map), recorded per cycle."""

    kind: str
    path: str
    digest: str


StudentResolver = Callable[[str], str | None]
"""Maps the SIS's student key (e.g. a PowerSchool DCID) to the canonical student id."""


class GuardianSource(Protocol):
    """A plugin that reads guardian contacts (PowerSchool over OneRoster 1.2 agents, Ed-Fi contacts)."""

    def guardian_contacts(self, student_ids: Iterable[str]) -> Iterable[GuardianContact]:
        """The guardians of each student in ``student_ids`` (canonical student ids)."""
        ...


class HealthPlanSource(Protocol):
    """A plugin that can tell whether a student has a 504 plan or an IEP in force (Ed-Fi)."""

    def health_plans(self, student_ids: Iterable[str], on: date) -> set[str]:
        """The students of ``student_ids`` (canonical ids) with a plan in force on ``on``."""
        ...


class SisPlugin(Protocol):
    """What the sync pipeline needs from a SIS product."""

    name: str
    streams: Mapping[str, StreamSpec]
    """The source streams by the name their cursors are stored under (``roster``, ``attendance``,
    ``readback``)."""

    @property
    def mapping_sources(self) -> tuple[MappingSource, ...]: ...

    @property
    def sessions(self) -> tuple[HttpSession, ...]:
        """The plugin's HTTP sessions, whose counts (requests, retries, 429s) the metrics carry."""
        ...

    def roster_pages(self, cursor: str | None) -> Iterator[RosterPage]:
        """Roster changes after ``cursor`` (None: everything), ending with an ``end`` page."""
        ...

    def calendars(self) -> list[SchoolCalendar]: ...

    def attendance_pages(self, cursor: str | None, resolve: StudentResolver) -> Iterator[AttendancePage]:
        """Attendance changes after ``cursor`` (None: everything), ending with an ``end`` page."""
        ...

    def categorize(self, code: str) -> CodeEntry | None:
        """The code map's entry for a raw code (None: unmapped), as the plugin compares codes."""
        ...

    def discover_codes(self) -> list[ObservedCode]:
        """Every attendance code the SIS defines or uses this school year, with how often it occurs.

        Read by ``truancy mappings discover`` and ``check``; never called during a sync.
        """
        ...

    @property
    def ownership(self) -> FieldOwnership:
        """Which fields the daemon owns, which the officer owns, and when a row may be retracted."""
        ...

    def read_back(self) -> Iterator[RemoteRow]:
        """Every truancy row in the SIS, in canonical fields (see :class:`RemoteRow`)."""
        ...

    def read_back_pages(self, cursor: str | None) -> Iterator[ReadBackPage]:
        """Truancy rows changed after ``cursor`` (None: every row), ending with an ``end`` page."""
        ...

    def stored_fields(self, write: DesiredWrite) -> Mapping[str, str]:
        """``write``'s canonical fields as ``read_back`` returns them once written: only the fields
        the SIS keeps, as it keeps them (clipped to its lengths, say), so the daemon's diff of a
        value the SIS shortens does not rewrite it every cycle."""
        ...

    def officer_action(self, remote: RemoteRow) -> OfficerAction | None:
        """What an officer recorded in a row read back (a task done, a flag dismissed, a note of
        their own), or None. Raises ``OfficerRowError`` when the row cannot be understood."""
        ...

    def writer_of(self, remote: RemoteRow) -> str | None:
        """The instance id of the state store that wrote ``remote`` (None: not recorded)."""
        ...

    def create(self, write: DesiredWrite, sis_ref: str) -> str:
        """Write a new row with every field of ``write`` the SIS keeps; return its ``remote_id``."""
        ...

    def update(self, remote: RemoteRow, write: DesiredWrite) -> None:
        """Bring the daemon-owned fields of ``remote`` to ``write``'s, leaving the officer-owned ones
        as the SIS holds them."""
        ...

    def delete(self, remote: RemoteRow) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SandboxFacts:
    """What the built-in sandbox SIS tells a plugin, so the plugin can point a daemon at it."""

    url: str
    client_id: str
    client_secret: str
    school_year: int
    """The year the sandbox serves, by its end (2026 for 2025-26)."""
    education_organization_id: int
    """The district's own id in the SIS (an Ed-Fi LEA id)."""


class PluginBundle(Protocol):
    """What a district installs inside its SIS (a PowerSchool plugin zip, say)."""

    def build(self, out_dir: Path, *, contact_email: str | None) -> Path:
        """Write the installable file into ``out_dir`` and return its path (``BundleError`` if not)."""
        ...

    @property
    def web_root(self) -> Path | None:
        """Page fragments the bundle adds to the SIS's own pages (the sandbox shows them too)."""
        ...


class BundleError(ValueError):
    """The bundle cannot be built; the message names the file and the fix."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a plugin offers beyond syncing; every command that needs one asks here, never by name."""

    sandbox_settings: Callable[[SandboxFacts], dict[str, Any]] | None = None
    """The ``[sis]`` table (without ``plugin``) for a daemon synced against the built-in sandbox."""
    bundle: PluginBundle | None = None
    student_page: Callable[[str, str], str] | None = None
    """(the SIS's base URL, a student's SIS key) → that student's page, for ``truancy demo``."""


@dataclass(frozen=True, slots=True)
class FieldMapFindings:
    """A plugin's verdict on a field map: whether it has the plugin's shape, and what is wrong."""

    fits: bool
    problems: list[MappingFileError] = field(default_factory=list)


class PluginFactory(Protocol):
    def __call__(
        self, config: Mapping[str, Any], *, options: ConnectionOptions, config_dir: Path
    ) -> SisPlugin: ...

    def check_field_map(self, path: Path) -> FieldMapFindings:
        """Every problem in a write-back field map for this plugin (its schema, the tables and
        columns it names), found without connecting to the SIS."""
        ...

    def capabilities(self) -> Capabilities: ...


def installed_plugins() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_plugin(name: str) -> PluginFactory:
    """The registered plugin class for ``name`` (e.g. ``powerschool``)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise PluginConfigError(f"sis.plugin = {name!r} is not an installed plugin (installed: {known})")
    factory: PluginFactory = found[name].load()
    check_contract(factory, f"plugin {name!r} ({found[name].value})")
    return factory


def check_contract(factory: object, plugin: str) -> None:
    """Refuse, at start-up and naming each one, a plugin that lacks a member of the contract or
    whose ownership declaration is inconsistent.

    A class is checked when it is loaded (its ownership too when the class declares it); a built
    plugin again, since its ownership may come from the district's field map."""
    missing = sorted(
        member
        for protocol in (SisPlugin, PluginFactory)
        for member in _members(protocol)
        if not hasattr(factory, member)
    )
    if missing:
        raise PluginConfigError(f"{plugin} lacks {', '.join(missing)} (see truancy.plugins.base.SisPlugin)")
    declared = getattr(factory, "ownership", None)
    if isinstance(declared, property):
        return
    problems = ownership_problems(declared)
    if problems:
        found = "; ".join(str(problem) for problem in problems)
        raise PluginConfigError(f"{plugin} declares an inconsistent field ownership: {found}")


def _members(protocol: type) -> set[str]:
    """The attributes, properties and methods a protocol asks for (``__call__`` aside)."""
    declared = set(getattr(protocol, "__annotations__", {}))
    defined = {name for name in vars(protocol) if not name.startswith("_")}
    return declared | defined


def offering(capability: str) -> list[str]:
    """The installed plugins that offer ``capability`` (a field of :class:`Capabilities`)."""
    return [name for name in installed_plugins() if getattr(load_plugin(name).capabilities(), capability)]
