"""Translation catalogs (gettext ``.po`` read with Babel), each carrying who reviewed it and when.

A catalog is a folder ``<dir>/<language>/`` holding one ``.po`` file per kind of document (its
domain: ``letters.po``, ``invitations.po``) and ``review.yaml`` (``reviewed_by``, ``reviewed_on``,
``statutory_reviewed``), which covers every file in the folder. Only a catalog a named person reviewed
may carry a letter; its statutory strings count only when ``statutory_reviewed`` is true and the
entry is not marked fuzzy (gettext's "needs review"). Statutory text is never machine-translated:
an unreviewed string is simply absent, and the letter falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

SHIPPED = Path(__file__).resolve().parent / "locales"
STATUTORY_PREFIX = "element."
"""Message ids of required statutory elements: ``element.<notice id>.<element id>``."""


class CatalogError(ValueError):
    """A catalog folder that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Catalog:
    language: str
    reviewed_by: str | None
    reviewed_on: date | None
    statutory_reviewed: bool
    messages: dict[str, str]

    @property
    def reviewed(self) -> bool:
        return bool(self.reviewed_by) and self.reviewed_on is not None

    def text(self, key: str) -> str | None:
        """The reviewed string for ``key`` (None: this catalog may not say it)."""
        if not self.reviewed:
            return None
        if key.startswith(STATUTORY_PREFIX) and not self.statutory_reviewed:
            return None
        return self.messages.get(key) or None


def load_catalog(folder: Path, domain: str = "letters") -> Catalog:
    review_path, po_path = folder / "review.yaml", folder / f"{domain}.po"
    try:
        review = yaml.safe_load(review_path.read_text(encoding="utf-8")) or {}
        with po_path.open("rb") as handle:
            po = read_po(handle)
    except OSError as exc:
        raise CatalogError(f"{folder}: cannot read the catalog ({exc.strerror})") from exc
    if not isinstance(review, dict):
        raise CatalogError(f"{review_path}: expected reviewed_by, reviewed_on, statutory_reviewed")
    reviewed_on = review.get("reviewed_on")
    if reviewed_on is not None and not isinstance(reviewed_on, date):
        raise CatalogError(f"{review_path}: reviewed_on must be a date (YYYY-MM-DD)")
    messages = {
        str(message.id): str(message.string)
        for message in po
        if message.id and isinstance(message.string, str) and message.string and not message.fuzzy
    }
    return Catalog(
        language=folder.name,
        reviewed_by=review.get("reviewed_by") or None,
        reviewed_on=reviewed_on,
        statutory_reviewed=bool(review.get("statutory_reviewed")),
        messages=messages,
    )


def load_catalogs(*folders: Path, domain: str = "letters") -> dict[str, Catalog]:
    """The shipped catalogs of ``domain``, then each folder's (a district's own replace the shipped ones)."""
    found: dict[str, Catalog] = {}
    for root in (SHIPPED, *folders):
        for folder in sorted(p for p in root.iterdir() if (p / f"{domain}.po").is_file()):
            found[folder.name] = load_catalog(folder, domain)
    return found
