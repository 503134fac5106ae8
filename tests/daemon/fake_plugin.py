"""A fake write target for the daemon's unit tests: an ownership declaration and a SIS that clips.

Only what the daemon's diff reads (``ownership``, ``stored_fields``) is here; the protocol itself is
exercised against the sandbox over HTTP by the contract kit (tests/plugins/contract.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import Ownership, RemoteRow

LABEL_LIMIT = 12
"""The fake SIS keeps at most this many characters of a flag's label, as Ed-Fi clips indicators."""

DECLARED = {
    WriteKind.FLAG: Ownership(
        daemon=frozenset({"label", "since_date", "writer"}),
        officer=frozenset({"status", "dismissed_date"}),
        retract_while={"status": "active"},
    ),
    WriteKind.NOTE: Ownership(daemon=frozenset({"note_date", "category", "note_text"})),
    WriteKind.TASK: Ownership(
        daemon=frozenset({"title", "due_date", "writer"}),
        officer=frozenset({"status", "completed_date", "outcome"}),
        retract_while={"status": "open"},
    ),
}


class FakeWriteTarget:
    """A SIS with room for the fields ``DECLARED`` names, clipping labels; it declares ``ownership``."""

    name = "fake"

    def __init__(self, ownership: Mapping[WriteKind, Ownership] = DECLARED) -> None:
        self.ownership = ownership

    def stored_fields(self, write: DesiredWrite) -> Mapping[str, str]:
        declared = DECLARED[write.kind]  # what the fake SIS has room for, whatever is declared
        kept = {n: v for n, v in write.fields.items() if n in declared.daemon | declared.officer}
        if "label" in kept:
            kept["label"] = kept["label"][:LABEL_LIMIT]
        return kept

    def row(self, write: DesiredWrite, remote_id: str = "1", **edits: str) -> RemoteRow:
        """The row the fake SIS holds once ``write`` is written, with an officer's ``edits``."""
        return RemoteRow(
            write.kind, remote_id, write.sync_key, write.student_id, {**self.stored_fields(write), **edits}
        )
