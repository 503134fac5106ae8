"""Attendance-code maps: the district's own codes, translated into what the law counts.

The map is data an admin edits and can read, so that a district sees (and can defend) how every
local code is counted. A code missing from the map is never guessed: the row is quarantined.

``normalise`` is the one function that turns a raw SIS mark into what the law counts. The daemon
keeps every raw mark (present and unknown codes included) and normalises at each evaluation, so a
new map applies to the stored year at the next cycle, with no re-read of the SIS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from truancy.mappings.facts import AttendanceEvent, Category
from truancy.mappings.yaml_source import MappingFileError, parse_yaml, validation_error

__all__ = [
    "CodeEntry",
    "CodeLookup",
    "CodeMap",
    "MappingFileError",
    "Quarantined",
    "RawMark",
    "load_code_map",
    "normalise",
]


class CodeEntry(BaseModel):
    """What one attendance code means; ``partial_day`` codes carry the minutes missed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    description: str = ""
    partial_day: bool = False


class _CodeMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    fold_case: bool = False
    """Match codes whatever their case (Ed-Fi descriptor URIs vary in case; PowerSchool codes do not)."""
    codes: dict[str, CodeEntry] = Field(min_length=1)


class CodeMap:
    """A validated code map; ``digest`` identifies the exact file content the counts were made with."""

    def __init__(
        self, entries: Mapping[str, CodeEntry], source: str, digest: str, *, fold_case: bool = False
    ) -> None:
        self._entries = dict(entries)
        self.source = source
        self.digest = digest
        self.fold_case = fold_case
        self._by_key = {self.key(code): entry for code, entry in self._entries.items()}

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<code map>") -> CodeMap:
        document = parse_yaml(text, source)
        if not isinstance(document.data, dict):
            raise MappingFileError(source, 1, "", "expected a mapping with 'version' and 'codes'")
        try:
            parsed = _CodeMapFile.model_validate(document.data)
        except ValidationError as exc:
            raise validation_error(document, exc) from None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return cls(parsed.codes, source, digest, fold_case=parsed.fold_case)

    @property
    def entries(self) -> Mapping[str, CodeEntry]:
        return dict(self._entries)

    def key(self, code: str) -> str:
        """How the map compares ``code``: surrounding blanks ignored, and case too with ``fold_case``."""
        return code.strip().casefold() if self.fold_case else code.strip()

    def categorize(self, code: str) -> CodeEntry | None:
        """The entry for ``code``, or None when the map does not know it (the one lookup every
        plugin, ``mappings check`` and ``mappings impact`` use, so they count alike)."""
        return self._by_key.get(self.key(code))

    def __len__(self) -> int:
        return len(self._entries)


def load_code_map(path: Path | str) -> CodeMap:
    """Read and validate a code map; errors name the file by its base name and the line."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingFileError(path.name, None, "", f"not UTF-8 text (byte {exc.start})") from None
    return CodeMap.from_yaml_text(text, source=path.name)


CodeLookup = Callable[[str], CodeEntry | None]
"""How a plugin reads its code map (PowerSchool codes as written, Ed-Fi descriptors case-blind)."""


@dataclass(frozen=True, slots=True)
class RawMark:
    """One SIS attendance row as the SIS holds it: the school's own code and the minutes it gives.

    ``minutes`` is whatever the SIS recorded, kept even for a whole-day code, so that remapping a
    code to a part-day one needs no re-read.
    """

    student_id: str
    date: date
    code: str
    minutes: int | None = None
    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A mark the map cannot count yet: it neither counts as present nor as absent until fixed.

    ``unmapped``: the code is not in the map (else a part-day code came without minutes).
    ``reason`` names the code, never the student or the row.
    """

    code: str
    reason: str
    unmapped: bool = True


def normalise(mark: RawMark, lookup: CodeLookup) -> AttendanceEvent | Quarantined | None:
    """What ``mark`` counts as under the map: an event, None for a present day, or a quarantine."""
    code = mark.code.strip()
    entry = lookup(mark.code)
    if entry is None:
        return Quarantined(code, f"attendance code {code!r} is not in the code map")
    if entry.partial_day and mark.minutes is None:
        return Quarantined(code, f"partial-day code {code!r} without minutes", unmapped=False)
    if entry.category is Category.PRESENT:
        return None
    return AttendanceEvent(
        student_id=mark.student_id,
        date=mark.date,
        category=entry.category,
        minutes_absent=mark.minutes if entry.partial_day else None,
        code=mark.code,
        school_id=mark.school_id,
    )
