"""Desired writes: the flags, notes and tasks that should exist in the SIS for one student.

The daemon never sends events; it diffs these against what it wrote before. A write's identity is
its ``sync_key``, computed from what the write *is* (kind, student, school year, logical id), never
from when it was computed, so the same case always yields the same keys and a second sync writes
nothing. ``content_hash`` tells the daemon whether an existing row needs an update.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

SYNC_KEY_LENGTH = 40
AUTHOR = "truancy-sync"
"""The ``author`` of every note the daemon writes, so officers can tell them from their own."""


class WriteKind(StrEnum):
    FLAG = "flag"
    NOTE = "note"
    TASK = "task"
    NOTICE = "notice"


def is_sync_key(value: str | None) -> bool:
    """Whether a row's key is one the daemon wrote; a row without one is an officer's own."""
    return value is not None and len(value) == SYNC_KEY_LENGTH and all(c in "0123456789abcdef" for c in value)


def sync_key(kind: WriteKind, student_id: str, school_year: str, logical_id: str) -> str:
    """The deterministic identity of one write: 40 hex characters of a SHA-256.

    The parts are joined with a separator no id contains, so ("a:b", "c") and ("a", "b:c") differ.
    """
    return stable_key(kind.value, student_id, school_year, logical_id)


def stable_key(*parts: str) -> str:
    """40 hex characters of a SHA-256 of ``parts`` joined by a separator no part holds: the same
    identity however often, and by whichever store, it is made (writes, notices, figures)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:SYNC_KEY_LENGTH]


@dataclass(frozen=True, slots=True)
class DesiredWrite:
    """One row the SIS should hold: its kind, identity and canonical fields (all strings, ISO dates).

    Canonical fields by kind (the plugin's field map turns them into SIS columns):
    flag: flag_type, label, citation, status, since_date, detail, tier (the case's tier label);
    note: note_date, category, author, note_text;
    task: task_type, title, due_date, status, citation, detail, outcome_options (the outcomes the
    officer picks from, as JSON) and, once done, completed_date and outcome;
    notice (the log of one family letter): notice_type, citation, trigger, languages,
    generated_date, sent_date, channel, evidence (message or batch ids, never an address), status
    (awaiting_approval, approved, held, sent or cancelled), status_reason, letter_text.
    """

    kind: WriteKind
    sync_key: str
    student_id: str
    fields: Mapping[str, str]

    def __post_init__(self) -> None:
        not_text = sorted(name for name, value in self.fields.items() if not isinstance(value, str))
        if not_text:
            raise TypeError(f"{self.kind.value} fields must be strings; not: {', '.join(not_text)}")

    @classmethod
    def build(
        cls, kind: WriteKind, student_id: str, school_year: str, logical_id: str, fields: Mapping[str, str]
    ) -> DesiredWrite:
        """A write keyed by ``sync_key(kind, student_id, school_year, logical_id)``."""
        return cls(kind, sync_key(kind, student_id, school_year, logical_id), student_id, dict(fields))

    @property
    def content_hash(self) -> str:
        """SHA-256 of the sorted fields: equal whenever the row would be written identically."""
        canonical = json.dumps(sorted(self.fields.items()), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
