"""Attendance-code maps: the district's own codes, translated into what the law counts.

The map is data an admin edits and can read, so that a district sees (and can defend) how every
local code is counted. A code missing from the map is never guessed: the caller quarantines it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from truancy.mappings.facts import Category
from truancy.mappings.yaml_source import MappingFileError, parse_yaml, validation_error

__all__ = ["CodeEntry", "CodeMap", "MappingFileError", "load_code_map"]


class CodeEntry(BaseModel):
    """What one attendance code means; ``partial_day`` codes carry the minutes missed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    description: str = ""
    partial_day: bool = False


class _CodeMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    codes: dict[str, CodeEntry] = Field(min_length=1)


class CodeMap:
    """A validated code map; ``digest`` identifies the exact file content the counts were made with."""

    def __init__(self, entries: Mapping[str, CodeEntry], source: str, digest: str) -> None:
        self._entries = dict(entries)
        self.source = source
        self.digest = digest

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
        return cls(parsed.codes, source, digest)

    @property
    def entries(self) -> Mapping[str, CodeEntry]:
        return dict(self._entries)

    def categorize(self, code: str) -> CodeEntry | None:
        """The entry for ``code`` (surrounding blanks ignored), or None when the map does not know it."""
        return self._entries.get(code.strip())

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
