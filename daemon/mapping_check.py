"""Validate the files an administrator edits, before a deployment lets them reach a sync.

Every problem is reported at once (not just the first), as file, line, key and what to change,
so ``truancy mappings check`` can gate a deployment and its output is a to-do list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from truancy.mappings.casework import load_casework
from truancy.mappings.casework_directory import load_directory
from truancy.mappings.codemap import CodeEntry, load_code_map
from truancy.mappings.discover import ObservedCode
from truancy.mappings.notices import load_notices
from truancy.mappings.policy import load_policy
from truancy.mappings.yaml_source import MappingFileError, YamlDocument, describe, parse_yaml
from truancy.plugins.base import FieldMapFindings


class FileKind(StrEnum):
    CODE_MAP = "code map"
    FIELD_MAP = "field map"
    POLICY_OVERRIDE = "policy override"
    NOTICES = "notice pack"
    CASEWORK = "casework pack"
    DIRECTORY = "partner directory"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (``error``) or doubt (``warning``) in one file, located for the person fixing it."""

    level: str
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return ": ".join(part for part in (where, self.key, self.message) if part)

    def as_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "file": self.file,
            "line": self.line,
            "key": self.key,
            "message": self.message,
        }


@dataclass
class CheckReport:
    checked: list[tuple[str, FileKind]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def error(self, exc: MappingFileError) -> None:
        self.findings.append(Finding("error", exc.file, exc.line, exc.key, exc.problem))

    def warn(self, file: str, line: int | None, key: str, message: str) -> None:
        self.findings.append(Finding("warning", file, line, key, message))

    def fail(self, file: str, line: int | None, key: str, message: str) -> None:
        self.findings.append(Finding("error", file, line, key, message))

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": [{"file": name, "kind": kind.value} for name, kind in self.checked],
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.as_json() for f in self.findings],
        }


def file_kind(path: Path) -> FileKind:
    """What a mapping file is, from its top-level keys (unreadable files count as code maps, whose
    loader then names the problem)."""
    try:
        data = parse_yaml(path.read_bytes().decode("utf-8"), path.name).data
    except (MappingFileError, UnicodeDecodeError):
        return FileKind.CODE_MAP
    keys = set(data) if isinstance(data, dict) else set()
    if keys & {"flag", "note", "task"}:
        return FileKind.FIELD_MAP
    if "policy" in keys:
        return FileKind.POLICY_OVERRIDE
    if "notices" in keys:
        return FileKind.NOTICES
    if "partners" in keys:
        return FileKind.DIRECTORY
    if keys & {"meetings", "packets", "escalations"}:
        return FileKind.CASEWORK
    return FileKind.CODE_MAP


def check_loads(path: Path, report: CheckReport, kind: FileKind, load: Callable[[Path], object]) -> None:
    """Validate a file its own loader checks whole: a district's notice pack (its letters' triggers,
    elements and citations) or partner directory (services, languages, ages, contact, consent)."""
    report.checked.append((path.name, kind))
    try:
        load(path)
    except MappingFileError as exc:
        report.error(exc)


def check_casework(path: Path, report: CheckReport, state: str | None) -> None:
    """Validate a district's casework pack; with the settings' state, one for another state is an
    error (its meetings, gates and checklists are another state's law)."""
    report.checked.append((path.name, FileKind.CASEWORK))
    try:
        pack = load_casework(path)
    except MappingFileError as exc:
        report.error(exc)
        return
    if state is not None and pack.state != state.upper():
        document = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        report.fail(
            str(path),
            document.line_of(("state",)),
            "state",
            f"the pack is for {pack.state} but the district is in {state.upper()}: "
            "its gates and checklists would be another state's law",
        )


def check_code_map(path: Path, report: CheckReport, observed: Sequence[ObservedCode] | None = None) -> None:
    """Validate a code map; with the SIS's codes, warn about gaps and dead entries."""
    report.checked.append((path.name, FileKind.CODE_MAP))
    try:
        load_code_map(path)
    except FileNotFoundError:
        report.error(MappingFileError(str(path), None, "", "file not found"))
        return
    except MappingFileError as exc:
        for problem in _code_map_problems(path) or [exc]:
            report.error(problem)
        return
    if observed is not None:
        check_code_usage(path, report, observed)


def _code_map_problems(path: Path) -> list[MappingFileError]:
    """Every problem in a code map that does not load, entry by entry (the loader stops at the first)."""
    try:
        document = parse_yaml(path.read_bytes().decode("utf-8"), path.name)
    except (MappingFileError, UnicodeDecodeError):
        return []  # unreadable as a whole: the loader's one error says why
    data = document.data
    if not isinstance(data, dict):
        return []
    problems = [document.error((key,), "unknown key (check the spelling)") for key in data if key not in _TOP]
    if "version" not in data:
        problems.append(document.error((), "required key is missing: version (use version: 1)"))
    elif data["version"] != 1:
        problems.append(document.error(("version",), f"{data['version']!r} is not one of 1"))
    codes = data.get("codes")
    if not isinstance(codes, dict) or not codes:
        problems.append(document.error(("codes",), "required: a mapping of each code to its category"))
        return problems
    for code, entry in codes.items():
        problems.extend(_entry_problems(document, str(code), entry))
    return problems


_TOP = ("version", "codes")


def _entry_problems(document: YamlDocument, code: str, entry: object) -> list[MappingFileError]:
    try:
        CodeEntry.model_validate(entry)
    except ValidationError as exc:
        return [
            document.error(
                ("codes", code, *(p for p in error["loc"] if isinstance(p, str | int))), describe(error)
            )
            for error in exc.errors(include_url=False)
        ]
    return []


def check_code_usage(path: Path, report: CheckReport, observed: Sequence[ObservedCode]) -> None:
    """A code the SIS used this year that the (valid) map lacks is an error (its rows would be
    quarantined); a mapped code nobody uses is a warning."""
    code_map = load_code_map(path)
    document = parse_yaml(path.read_bytes().decode("utf-8"), path.name)
    used = {code_map.key(code.code): code for code in observed}
    for code in observed:
        if code.occurrences and code_map.categorize(code.code) is None:
            report.fail(
                path.name,
                document.line_of(("codes",)),
                "codes",
                f"code {code.code!r} ({code.description or 'no description'}) occurs {code.occurrences:,} "
                "time(s) this year but is not in the map: its rows are quarantined; add it "
                "(`truancy mappings discover` proposes a category)",
            )
    for name in code_map.entries:
        seen = used.get(code_map.key(name))
        if seen is None or not seen.occurrences:
            why = "has no rows this year" if seen is not None else "is not defined in the SIS and has no rows"
            report.warn(
                path.name,
                document.line_of(("codes", name)),
                f"codes.{name}",
                f"mapped code {why}: a typo, or a retired code to remove",
            )


FieldMapCheck = Callable[[Path], FieldMapFindings]
"""A plugin's own field-map check: its schema, and the tables and columns the map names."""


def check_field_map(path: Path, report: CheckReport, checks: Mapping[str, FieldMapCheck]) -> None:
    """Validate a field map with each plugin's check (one plugin when the settings name it).

    The map is fine when one plugin accepts it; otherwise the problems reported are those of a
    plugin whose shape it has (it was written for that one), else of the one it comes closest to."""
    report.checked.append((path.name, FileKind.FIELD_MAP))
    if not path.is_file():
        report.error(MappingFileError(str(path), None, "", "file not found"))
        return
    found = [check(path) for check in checks.values()]
    if not found or any(f.fits and not f.problems for f in found):
        return
    for problem in min(found, key=lambda f: (not f.fits, len(f.problems))).problems:
        report.error(problem)


def check_policy_override(path: Path, report: CheckReport, state: str | None) -> None:
    """Validate an override against its state pack; loosening the statute is a warning."""
    report.checked.append((path.name, FileKind.POLICY_OVERRIDE))
    try:
        pack = state or _named_pack(path)
        policy = load_policy(pack, overrides=path)
    except MappingFileError as exc:
        report.error(exc)
        return
    for warning in policy.warnings:
        report.warn("", None, "", warning)


def _named_pack(path: Path) -> str:
    """The state pack an override names in its ``policy`` key (when no settings say which)."""
    text = path.read_bytes().decode("utf-8") if path.is_file() else ""
    document = parse_yaml(text, path.name)
    pack = document.data.get("policy") if isinstance(document.data, dict) else None
    if not isinstance(pack, str):
        raise document.error(
            ("policy",), "required key is missing: name the pack it overrides, e.g. policy: CA"
        )
    return pack


def check_paths(
    paths: Iterable[Path],
    report: CheckReport,
    *,
    field_maps: Mapping[str, FieldMapCheck],
    state: str | None,
    observed: Sequence[ObservedCode] | None = None,
) -> None:
    """Check each file as the kind its content shows."""
    for path in paths:
        kind = file_kind(path) if path.is_file() else FileKind.CODE_MAP
        if kind is FileKind.FIELD_MAP:
            check_field_map(path, report, field_maps)
        elif kind is FileKind.POLICY_OVERRIDE:
            check_policy_override(path, report, state)
        elif kind is FileKind.NOTICES:
            check_loads(path, report, kind, load_notices)
        elif kind is FileKind.CASEWORK:
            check_casework(path, report, state)
        elif kind is FileKind.DIRECTORY:
            check_loads(path, report, kind, load_directory)
        else:
            check_code_map(path, report, observed)
