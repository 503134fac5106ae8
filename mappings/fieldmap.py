"""Write-back field maps: which SIS table and columns hold each kind of canonical write.

Admin-editable YAML, validated here so a typo names the file, the key and the fix instead of
failing halfway through a sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from truancy.mappings.writes import WriteKind


class FieldMapError(ValueError):
    """A field map file that cannot be used, with the file and key at fault."""


class TableMap(BaseModel):
    """How one kind of write lands in one SIS table.

    ``officer_columns`` are set when the row is created and then belong to the officer: the
    daemon never overwrites them (an officer's "done" or "dismissed" wins).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(min_length=1)
    student_column: str = "studentsdcid"
    sync_key_column: str = "sync_key"
    columns: dict[str, str] = Field(min_length=1)
    officer_columns: frozenset[str] = frozenset()
    retract: Literal["delete", "keep"] = "delete"
    deletable_when: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _officer_columns_are_mapped(self) -> TableMap:
        mapped = set(self.columns.values())
        unknown = sorted((self.officer_columns | set(self.deletable_when)) - mapped)
        if unknown:
            raise ValueError(f"columns {unknown} are not among the mapped columns")
        return self

    def may_retract(self, columns: Mapping[str, str]) -> bool:
        """Whether a daemon-written row that is no longer desired may be deleted.

        Notes are a case log and stay; a task an officer has closed stays as the officer left it.
        """
        if self.retract == "keep":
            return False
        return all(columns.get(column, "") == value for column, value in self.deletable_when.items())

    def to_columns(self, fields: Mapping[str, str]) -> dict[str, str]:
        """The SIS columns for a write's canonical fields (fields the map omits are not written)."""
        return {column: fields[name] for name, column in self.columns.items() if name in fields}

    def daemon_columns(self, fields: Mapping[str, str]) -> dict[str, str]:
        """The columns the daemon keeps in step with its desired state on every cycle."""
        return {k: v for k, v in self.to_columns(fields).items() if k not in self.officer_columns}


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    flag: TableMap
    note: TableMap
    task: TableMap

    def for_kind(self, kind: WriteKind) -> TableMap:
        table_map: TableMap = getattr(self, kind.value)
        return table_map

    def tables(self) -> dict[str, WriteKind]:
        return {self.for_kind(kind).table.lower(): kind for kind in WriteKind}


def load_field_map(path: Path) -> FieldMap:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise FieldMapError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        return FieldMap.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise FieldMapError(f"{path}: {problems}") from None
