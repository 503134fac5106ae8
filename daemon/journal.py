"""The outbox journal's payload: what a journalled write sends, as JSON, and back."""

from __future__ import annotations

from datetime import date
from typing import Any

from truancy.daemon.evaluate import Target
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import RemoteRow


def _row_json(row: RemoteRow) -> dict[str, Any]:
    return {
        "kind": row.kind.value,
        "remote_id": row.remote_id,
        "sync_key": row.sync_key,
        "sis_ref": row.sis_ref,
        "columns": dict(row.columns),
        "saved_on": row.saved_on.isoformat() if row.saved_on is not None else None,
    }


def _write_json(target: Target) -> dict[str, Any]:
    write = target.write
    return {
        "kind": write.kind.value,
        "sync_key": write.sync_key,
        "student_id": write.student_id,
        "fields": dict(write.fields),
        "sis_ref": target.sis_ref,
    }


def dumps_payload(op: str, payload: Any) -> dict[str, Any]:
    """What a journalled entry sends, as JSON."""
    if op == "create":
        return {"write": _write_json(payload)}
    if op == "update":
        return {"remote": _row_json(payload[0]), "write": _write_json(payload[1])}
    return {"remote": _row_json(payload)}


def written(data: dict[str, Any]) -> Target:
    """A journalled write back from its JSON."""
    write = DesiredWrite(WriteKind(data["kind"]), data["sync_key"], data["student_id"], data["fields"])
    return Target(write, data["sis_ref"])


def loads_payload(op: str, payload: dict[str, Any]) -> Any:
    """The write (create), the row and the write (update) or the row (delete) of an entry."""

    def row(data: dict[str, Any]) -> RemoteRow:
        saved = data.get("saved_on")
        return RemoteRow(
            WriteKind(data["kind"]),
            data["remote_id"],
            data["sync_key"],
            data["sis_ref"],
            data["columns"],
            date.fromisoformat(saved) if saved else None,
        )

    if op == "create":
        return written(payload["write"])
    if op == "update":
        return row(payload["remote"]), written(payload["write"])
    return row(payload["remote"])
