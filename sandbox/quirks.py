"""Switchable behaviours of real OneRoster providers, so each client defence has a test over HTTP.

Each quirk copies something a production provider does: leave out ``X-Total-Count`` or the ``Link``
header, ignore ``offset`` (every page is the first), spell imsx keys in lower case or wrap the status
in a ``statusInfoSet`` array, delete records outright instead of marking them ``tobedeleted``, or
answer a burst of 429s.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Quirks:
    no_total_count: bool = False
    no_link: bool = False
    ignore_offset: bool = False
    lowercase_imsx: bool = False
    status_info_set: bool = False
    hard_deletes: bool = False
    throttle_burst: int = 0
    """How many of the next OneRoster requests answer 429 with ``Retry-After: 1``."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class QuirkSettings:
    """The quirks in force; thread-safe, replaced wholesale or field by field through the control API."""

    def __init__(self) -> None:
        self._quirks = Quirks()
        self._lock = threading.Lock()

    @property
    def current(self) -> Quirks:
        with self._lock:
            return self._quirks

    def update(self, changes: Mapping[str, Any]) -> Quirks:
        """Apply ``changes``; unknown names or values of the wrong type raise ``ValueError``."""
        known = {field.name: field.type for field in fields(Quirks)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown quirks: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        for name, value in changes.items():
            wanted = int if name == "throttle_burst" else bool
            if type(value) is not wanted or (wanted is int and value < 0):
                raise ValueError(f"quirk {name} takes {'a count' if wanted is int else 'true or false'}")
        with self._lock:
            self._quirks = replace(self._quirks, **changes)
            return self._quirks

    def reset(self) -> None:
        with self._lock:
            self._quirks = Quirks()

    def take_throttle(self) -> bool:
        """True when this request is one of the burst of 429s (and uses it up)."""
        with self._lock:
            if self._quirks.throttle_burst == 0:
                return False
            self._quirks = replace(self._quirks, throttle_burst=self._quirks.throttle_burst - 1)
            return True


def paging_headers(quirks: Quirks, total: int, link: str) -> dict[str, str]:
    headers = {}
    if not quirks.no_total_count:
        headers["X-Total-Count"] = str(total)
    if not quirks.no_link:
        headers["Link"] = link
    return headers


def served_offset(quirks: Quirks, offset: int) -> int:
    return 0 if quirks.ignore_offset else offset


def shape_imsx(quirks: Quirks, body: dict[str, Any]) -> dict[str, Any]:
    """The spec's imsx_StatusInfo as a quirky provider would spell it."""
    if quirks.lowercase_imsx:
        body = _lower_first_letters(body)
    if quirks.status_info_set:
        body = {"statusInfoSet": [body]}
    return body


def _lower_first_letters(value: Any) -> Any:
    """``imsx_CodeMinor`` → ``imsx_codeMinor``, recursively (the spelling several providers use)."""
    if isinstance(value, list):
        return [_lower_first_letters(item) for item in value]
    if isinstance(value, dict):
        return {_lower_after_prefix(key): _lower_first_letters(item) for key, item in value.items()}
    return value


def _lower_after_prefix(key: str) -> str:
    prefix, _, rest = key.partition("_")
    return f"{prefix}_{rest[:1].lower()}{rest[1:]}" if rest else key
