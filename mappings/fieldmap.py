"""Write-back field maps: which SIS table and columns hold each kind of canonical write.

Admin-editable YAML, validated here so a typo names the file, the key and the fix instead of
failing halfway through a sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from truancy.mappings.report_figures import FigureTableMap
from truancy.mappings.writes import WriteKind
from truancy.mappings.yaml_source import MappingFileError, YamlDocument, parse_yaml, validation_error


class FieldMapError(MappingFileError):
    """A field map file that cannot be used, with the file, line and key at fault."""


class TableMap(BaseModel):
    """How one kind of write lands in one SIS table, and who owns its columns.

    ``officer_columns`` are set when the row is created and then belong to the officer: the
    daemon never overwrites them (an officer's "done" or "dismissed" wins). ``retract: delete``
    lets a row no longer wanted go only while each ``deletable_when`` column holds its value;
    ``keep`` never. The PowerSchool plugin declares its field ownership from these.
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

    def to_columns(self, fields: Mapping[str, str]) -> dict[str, str]:
        """The SIS columns for a write's canonical fields (fields the map omits are not written)."""
        return {column: fields[name] for name, column in self.columns.items() if name in fields}


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    flag: TableMap
    note: TableMap
    task: TableMap
    notice: TableMap | None = None
    """The log of family letters; a district's own map written before it existed has none, and
    the plugin then uses its shipped one (the table comes with the plugin bundle)."""

    figure: FigureTableMap | None = None
    """Where the outcomes report's published figures go (``report outcomes --to-sis``); a map
    without one leaves the plugin's shipped entry in force."""

    def for_kind(self, kind: WriteKind) -> TableMap:
        table_map: TableMap | None = getattr(self, kind.value)
        if table_map is None:
            raise KeyError(f"the field map has no {kind.value!r} table")
        return table_map

    def kinds(self) -> tuple[WriteKind, ...]:
        """The kinds of write this map places."""
        return tuple(kind for kind in WriteKind if getattr(self, kind.value) is not None)

    def tables(self) -> dict[str, WriteKind]:
        return {self.for_kind(kind).table.lower(): kind for kind in self.kinds()}


def load_field_map(path: Path) -> FieldMap:
    return _parse(path)[0]


def _parse(path: Path) -> tuple[FieldMap, YamlDocument]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldMapError(path.name, None, "", f"not UTF-8 text (byte {exc.start})") from None
    try:
        document = parse_yaml(text, path.name)
    except MappingFileError as exc:
        raise FieldMapError(exc.file, exc.line, exc.key, exc.problem) from None
    try:
        return FieldMap.model_validate(document.data), document
    except ValidationError as exc:
        error = validation_error(document, exc)
        raise FieldMapError(error.file, error.line, error.key, error.problem) from None


def undefined_tables_and_columns(path: Path, defined: Mapping[str, frozenset[str]]) -> list[FieldMapError]:
    """Tables and columns a valid field map names that the SIS plugin does not install.

    ``defined`` maps upper-case table names to lower-case column names. Each problem names the
    line, so a typo is found before a sync fails on its first write.
    """
    field_map, document = _parse(path)
    problems: list[FieldMapError] = []
    for kind in field_map.kinds():
        table_map = field_map.for_kind(kind)
        columns = defined.get(table_map.table.upper())
        if columns is None:
            known = ", ".join(sorted(defined)) or "none"
            error = document.error(
                (kind.value, "table"), f"{table_map.table!r} is not a table the plugin defines ({known})"
            )
            problems.append(FieldMapError(error.file, error.line, error.key, error.problem))
            continue
        named: dict[tuple[str, ...], str] = {
            (kind.value, "student_column"): table_map.student_column,
            (kind.value, "sync_key_column"): table_map.sync_key_column,
            **{(kind.value, "columns", name): column for name, column in table_map.columns.items()},
        }
        for key, column in named.items():
            if column.lower() not in columns:
                error = document.error(key, f"{column!r} is not a column of {table_map.table.upper()}")
                problems.append(FieldMapError(error.file, error.line, error.key, error.problem))
    return problems
