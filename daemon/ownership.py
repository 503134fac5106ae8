"""Field ownership applied: the daemon's diff of a desired write against the row the SIS holds.

Every plugin declares, as data (:class:`truancy.plugins.base.Ownership`), which canonical fields
the daemon owns, which the officer owns, and when a row may be retracted; the outbox, the
retraction guard and the officer's overrides all read that one declaration through here, so no
plugin decides any of it in code. A kind a plugin declares nothing for is never updated and
never retracted: when unsure, hold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from truancy.mappings.writes import DesiredWrite
from truancy.plugins.base import FieldOwnership, Ownership, RemoteRow

UNDECLARED = Ownership(daemon=frozenset())


class Declared(Protocol):
    """The part of a plugin the diff reads (every :class:`~truancy.plugins.base.SisPlugin` has it)."""

    @property
    def ownership(self) -> FieldOwnership: ...

    def stored_fields(self, write: DesiredWrite) -> Mapping[str, str]: ...


def ownership_of(plugin: Declared, row: RemoteRow | DesiredWrite) -> Ownership:
    return plugin.ownership.get(row.kind, UNDECLARED)


def needs_update(remote: RemoteRow, write: DesiredWrite, plugin: Declared) -> bool:
    """Whether a daemon-owned field the SIS keeps differs from what the write would store."""
    return differs(remote, write, plugin, ownership_of(plugin, write).daemon)


def differs(remote: RemoteRow, write: DesiredWrite, plugin: Declared, fields: Collection[str]) -> bool:
    """Whether any of ``fields`` the write stores reads back differently in ``remote``."""
    stored = plugin.stored_fields(write)
    return any(remote.columns.get(name, "") != value for name, value in stored.items() if name in fields)


def overridden(remote: RemoteRow, write: DesiredWrite, plugin: Declared) -> tuple[str, ...]:
    """The officer-owned fields the write sets that the officer holds another value for."""
    officer = ownership_of(plugin, write).officer
    return tuple(
        sorted(
            name
            for name, value in write.fields.items()
            if name in officer and remote.columns.get(name, "") != value
        )
    )


def may_retract(remote: RemoteRow, plugin: Declared) -> bool:
    """Whether a daemon row no longer wanted may be deleted: only while the declaration allows."""
    condition = ownership_of(plugin, remote).retract_while
    if condition is None:
        return False
    return all(remote.columns.get(name, "") == value for name, value in condition.items())
