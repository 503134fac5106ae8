"""Plugin page fragments inserted into the sandbox's pages the way PowerSchool inserts them.

A plugin's ``web_root`` holds ``<page>.<name>.<insertion point>.txt`` files beside the page they
extend (``admin/students/home.truancy_sync.content.footer.txt`` extends ``admin/students/home.html``).
PowerSchool replaces ``~([01]FIELD)`` tags with the current student's fields, ``~[x:username]``
with the signed-in user's name ("Last, First") and ``~(curschoolid)`` with the school the user
works in (0: the district office), expands ``~[tlist_sql;...]`` blocks, and serves the rest of
``web_root`` at the same paths: scripts and styles as they are, and a plugin's own pages
(``admin/<folder>/<page>.html``, PowerSchool's "custom pages") with the same tags replaced. The
sandbox reads the files from disk, so it needs nothing from the plugin's package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path

HEADER = "content.header"
FOOTER = "content.footer"
STATIC_TYPES: Mapping[str, str] = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_STUDENT_FIELD = re.compile(r"~\(\[01\](\w+)\)")
_SESSION_TAG = re.compile(r"~\[x:(\w+)\]|~\((cur\w+)\)")


class PageFragments:
    def __init__(self, web_root: Path) -> None:
        self.web_root = web_root.resolve()

    def insert(
        self,
        page: str,
        point: str,
        fields: Mapping[str, str],
        *,
        session: Mapping[str, str] | None = None,
        expand: Callable[[str], str] | None = None,
    ) -> str:
        """Every fragment for ``page`` at ``point``, with student and session tags replaced (unknown
        tags: empty) and then, through ``expand``, its tlist_sql blocks run."""
        folder, _, name = page.strip("/").rpartition("/")
        stem = name.removesuffix(".html")
        return "".join(
            self.render(path.read_text(encoding="utf-8"), fields, session=session, expand=expand)
            for path in sorted((self.web_root / folder).glob(f"{stem}.*.{point}.txt"))
        )

    @staticmethod
    def render(
        text: str,
        fields: Mapping[str, str],
        *,
        session: Mapping[str, str] | None = None,
        expand: Callable[[str], str] | None = None,
    ) -> str:
        """``text`` as PowerSchool serves it: student and session tags replaced, then tlist_sql run."""
        known = session or {}
        text = _STUDENT_FIELD.sub(lambda m: escape(fields.get(m[1].upper(), "")), text)
        text = _SESSION_TAG.sub(lambda m: escape(known.get((m[1] or m[2]).lower(), "")), text)
        return expand(text) if expand is not None else text

    def custom_page(self, path: str) -> Path | None:
        """The plugin's own page served at ``path`` (``/admin/<folder>/<page>.html``), or None."""
        candidate = (self.web_root / path.lstrip("/")).resolve()
        admin = self.web_root / "admin"
        if candidate.suffix != ".html" or not candidate.is_relative_to(admin) or candidate.parent == admin:
            return None
        return candidate if candidate.is_file() else None

    def static_file(self, path: str) -> Path | None:
        """The ``web_root`` file served at ``path``: scripts and styles only, never outside the root."""
        candidate = (self.web_root / path.lstrip("/")).resolve()
        if candidate.suffix not in STATIC_TYPES or not candidate.is_relative_to(self.web_root):
            return None
        return candidate if candidate.is_file() else None
