"""The contract between the daemon and a SIS plugin.

A plugin is glue: it reads vendor records through a connector, turns them into canonical facts
with the district's code map, and turns canonical writes into SIS rows. Plugins register under
the ``truancy.plugins`` entry-point group, so a district can ship its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from truancy.mappings.case import OfficerAction
from truancy.mappings.discover import ObservedCode
from truancy.mappings.facts import AttendanceEvent, Enrollment, SchoolCalendar, Student
from truancy.mappings.writes import DesiredWrite, WriteKind

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


@dataclass(slots=True)
class RosterPage:
    """One page of roster changes, applied to the store together with its bookmark."""

    students: list[Student] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)
    deleted_students: list[str] = field(default_factory=list)
    deleted_enrollments: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    bookmark: str | None = None


@dataclass(frozen=True, slots=True)
class AttendanceChange:
    """The current state of one SIS attendance row: an event, or None when it no longer counts."""

    source_key: str
    event: AttendanceEvent | None


@dataclass(slots=True)
class AttendancePage:
    changes: list[AttendanceChange] = field(default_factory=list)
    unknown_codes: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejected] = field(default_factory=list)
    bookmark: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteRow:
    """A truancy row as it stands in the SIS, read back each cycle."""

    kind: WriteKind
    remote_id: str
    sync_key: str | None
    sis_ref: str
    columns: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class MappingSource:
    """One admin-edited file a plugin loaded (``kind``: code_map, field_map), recorded per cycle."""

    kind: str
    path: str
    digest: str


StudentResolver = Callable[[str], str | None]
"""Maps the SIS's student key (e.g. a PowerSchool DCID) to the canonical student id."""


class SisPlugin(Protocol):
    """What the sync pipeline needs from a SIS product."""

    name: str

    @property
    def code_map_digest(self) -> str: ...

    @property
    def mapping_sources(self) -> tuple[MappingSource, ...]: ...

    def roster_pages(self, since: str | None) -> Iterator[RosterPage]: ...

    def calendars(self) -> list[SchoolCalendar]: ...

    def attendance_pages(self, since: str | None, resolve: StudentResolver) -> Iterator[AttendancePage]: ...

    def discover_codes(self) -> list[ObservedCode]:
        """Every attendance code the SIS defines or uses this school year, with how often it occurs.

        Read by ``truancy mappings discover`` and ``check``; never called during a sync.
        """
        ...

    def read_back(self) -> Iterator[RemoteRow]: ...

    def officer_action(self, remote: RemoteRow) -> OfficerAction | None:
        """What an officer recorded in a row read back (a task done, a flag dismissed, a note of
        their own), or None. Raises ``OfficerRowError`` when the row cannot be understood."""
        ...

    def overrides(self, remote: RemoteRow, write: DesiredWrite) -> tuple[str, ...]:
        """Canonical fields of ``write`` the officer owns in ``remote`` and holds a different value for."""
        ...

    def needs_update(self, remote: RemoteRow, write: DesiredWrite) -> bool: ...

    def may_retract(self, remote: RemoteRow) -> bool: ...

    def create(self, write: DesiredWrite, sis_ref: str) -> str: ...

    def update(self, remote: RemoteRow, write: DesiredWrite) -> None: ...

    def delete(self, remote: RemoteRow) -> None: ...

    def close(self) -> None: ...


class PluginFactory(Protocol):
    def __call__(
        self, config: Mapping[str, Any], *, options: ConnectionOptions, config_dir: Path
    ) -> SisPlugin: ...

    def writable_tables(self) -> Mapping[str, frozenset[str]]:
        """The SIS tables the plugin installs for write-back (upper-case name → column names), so a
        field map can be checked without connecting to the SIS."""
        ...


def load_plugin(name: str) -> PluginFactory:
    """The registered plugin class for ``name`` (e.g. ``powerschool``)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise PluginConfigError(f"sis.plugin = {name!r} is not an installed plugin (installed: {known})")
    factory: PluginFactory = found[name].load()
    return factory
