"""Ed-Fi error bodies in both shapes: RFC 9457 Problem Details (ODS/API 7.2+) and the older
``{"message": ...}``, reduced to one line that is safe to log (values the server echoed are scrubbed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from truancy.connector.redaction import scrub_server_text


@dataclass(frozen=True, slots=True)
class Problem:
    """What the ODS/API said went wrong: ``type`` is a URN such as
    ``urn:ed-fi:api:data-conflict:unresolved-reference`` (Ed-Fi-ODS v7.3.2
    ``EdFi.Ods.Common/Exceptions/ConflictException.cs:15``; empty for the older shape)."""

    type: str
    summary: str
    raw_text: str = field(default="", repr=False)
    """The unscrubbed message, only for matching: it may echo record values, so it is never shown."""

    def is_a(self, *fragments: str) -> bool:
        """Whether the type URN, or for older servers the message, mentions any fragment."""
        text = f"{self.type} {self.raw_text}".lower()
        return any(fragment in text for fragment in fragments)


def _messages(payload: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    errors = payload.get("errors")
    if isinstance(errors, list):
        found.extend(str(error) for error in errors if isinstance(error, str))
    validation = payload.get("validationErrors")
    if isinstance(validation, Mapping):
        for path, problems in validation.items():
            texts = problems if isinstance(problems, list) else [problems]
            found.extend(f"{path}: {text}" for text in texts if isinstance(text, str))
    return found


def parse_problem(payload: Any) -> Problem:
    if not isinstance(payload, Mapping):
        return Problem("", "")
    kind = str(payload.get("type") or "")
    head = next(
        (str(payload[key]) for key in ("detail", "message", "title") if isinstance(payload.get(key), str)),
        "",
    )
    parts = [part for part in (head, *_messages(payload)) if part]
    text = "; ".join(parts)
    return Problem(kind, scrub_server_text(text) if text else "", text)


def describe_problem(response: requests.Response) -> Problem:
    """The problem an error response carries; an unreadable body gives an empty summary."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    return parse_problem(payload)
