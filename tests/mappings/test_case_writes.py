"""Sync keys and content hashes: the identities the daemon's diff relies on."""

from __future__ import annotations

import pytest

from truancy.mappings.writes import DesiredWrite, WriteKind, sync_key


def test_sync_key_is_40_hex_and_stable() -> None:
    key = sync_key(WriteKind.FLAG, "s-1", "2025-26", "truant")
    assert len(key) == 40
    assert int(key, 16) >= 0
    assert key == sync_key(WriteKind.FLAG, "s-1", "2025-26", "truant")


@pytest.mark.parametrize(
    "other",
    [
        (WriteKind.TASK, "s-1", "2025-26", "truant"),
        (WriteKind.FLAG, "s-2", "2025-26", "truant"),
        (WriteKind.FLAG, "s-1", "2026-27", "truant"),
        (WriteKind.FLAG, "s-1", "2025-26", "habitual_truant"),
    ],
)
def test_sync_key_changes_with_every_part(other: tuple[WriteKind, str, str, str]) -> None:
    assert sync_key(WriteKind.FLAG, "s-1", "2025-26", "truant") != sync_key(*other)


def test_sync_key_parts_cannot_run_together() -> None:
    assert sync_key(WriteKind.NOTE, "s-1", "2025-26", "a") != sync_key(WriteKind.NOTE, "s-12025-26", "", "a")


def test_content_hash_ignores_field_order_and_sees_values() -> None:
    first = DesiredWrite.build(WriteKind.NOTE, "s-1", "2025-26", "history:1", {"a": "1", "b": "2"})
    reordered = DesiredWrite.build(WriteKind.NOTE, "s-1", "2025-26", "history:1", {"b": "2", "a": "1"})
    changed = DesiredWrite.build(WriteKind.NOTE, "s-1", "2025-26", "history:1", {"a": "1", "b": "3"})
    assert first.content_hash == reordered.content_hash
    assert first.content_hash != changed.content_hash
    assert first.sync_key == changed.sync_key


def test_fields_must_be_text() -> None:
    with pytest.raises(TypeError, match="due_date"):
        DesiredWrite.build(WriteKind.TASK, "s-1", "2025-26", "t", {"due_date": 5})  # type: ignore[dict-item]
