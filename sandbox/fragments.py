"""Plugin page fragments inserted into the sandbox's pages the way PowerSchool inserts them.

A plugin's ``web_root`` holds ``<page>.<name>.<insertion point>.txt`` files beside the page they
extend (``admin/students/home.truancy_sync.content.footer.txt`` extends ``admin/students/home.html``).
PowerSchool replaces ``~([01]FIELD)`` tags with the current student's fields and serves the rest of
``web_root`` (scripts, styles) at the same paths. The sandbox reads the files from disk, so it
needs nothing from the plugin's package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from pathlib import Path

HEADER = "content.header"
FOOTER = "content.footer"
STATIC_TYPES: Mapping[str, str] = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_STUDENT_FIELD = re.compile(r"~\(\[01\](\w+)\)")


class PageFragments:
    def __init__(self, web_root: Path) -> None:
        self.web_root = web_root.resolve()

    def insert(self, page: str, point: str, fields: Mapping[str, str]) -> str:
        """Every fragment for ``page`` at ``point``, with student tags replaced (unknown tags: empty)."""
        folder, _, name = page.strip("/").rpartition("/")
        stem = name.removesuffix(".html")
        texts = []
        for path in sorted((self.web_root / folder).glob(f"{stem}.*.{point}.txt")):
            text = path.read_text(encoding="utf-8")
            texts.append(_STUDENT_FIELD.sub(lambda m: escape(fields.get(m[1].upper(), "")), text))
        return "".join(texts)

    def static_file(self, path: str) -> Path | None:
        """The ``web_root`` file served at ``path``: scripts and styles only, never outside the root."""
        candidate = (self.web_root / path.lstrip("/")).resolve()
        if candidate.suffix not in STATIC_TYPES or not candidate.is_relative_to(self.web_root):
            return None
        return candidate if candidate.is_file() else None
