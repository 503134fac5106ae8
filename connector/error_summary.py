"""One readable line from an SIS error body: imsx status, PowerSchool message or OAuth error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from truancy.connector.imsx import parse_imsx
from truancy.connector.redaction import scrub_server_text


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _summarise_payload(payload: Any) -> str | None:
    imsx = parse_imsx(payload)
    if imsx is not None:
        parts = [part for part in (imsx.code_minor, imsx.description) if part]
        return ": ".join(parts) or imsx.code_major
    if not isinstance(payload, Mapping):
        return None
    if isinstance(payload.get("error"), str):
        description = payload.get("error_description")
        return f"{payload['error']}: {description}" if isinstance(description, str) else payload["error"]
    for key in ("message", "error_message", "detail", "title"):
        if isinstance(payload.get(key), str):
            return str(payload[key])
    return None


def oauth_error_code(response: requests.Response) -> str | None:
    """The RFC 6749 ``error`` code of a token endpoint answer (``invalid_client``...), if any."""
    payload = _json_or_none(response)
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
        return str(payload["error"])
    return None


def summarise_error(response: requests.Response) -> str | None:
    """The server's explanation, scrubbed of echoed values, or None when the body explains nothing."""
    summary = _summarise_payload(_json_or_none(response))
    return None if summary is None else scrub_server_text(summary)
