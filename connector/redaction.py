"""Make URLs and server messages safe to log: no ids, no query strings, no quoted values.

SIS paths embed record ids (``/users/stu-10001``, ``/ws/schema/table/u_truancy_flags/7``) and
server error texts sometimes echo the values they rejected. Both end up in logs, metrics and
exception messages, so they pass through here first.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_VERSION_SEGMENT = re.compile(r"^v\d+(p\d+)?$", re.IGNORECASE)
_DOTTED_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+){2,}$", re.IGNORECASE)
_LONG_OPAQUE_SEGMENT = 24
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d{3,}")
_SUMMARY_LIMIT = 200


def _looks_like_id(segment: str) -> bool:
    """Ids carry digits (``stu-10001``, ``42``, GUIDs) or are long opaque tokens.

    API versions (``v1p2``) and dotted resource names (PowerQuery ``com.vendor.area.name``) are not ids.
    """
    if not segment or _VERSION_SEGMENT.match(segment) or _DOTTED_NAME.match(segment):
        return False
    return any(ch.isdigit() for ch in segment) or "@" in segment or len(segment) >= _LONG_OPAQUE_SEGMENT


def path_template(url_or_path: str) -> str:
    """The path of a URL with every id-like segment replaced by ``{id}`` and the query dropped."""
    path = urlsplit(url_or_path).path or "/"
    return "/".join("{id}" if _looks_like_id(segment) else segment for segment in path.split("/"))


def scrub_server_text(text: str) -> str:
    """Shorten a server's error text and blank out quoted values and numbers it may have echoed."""
    scrubbed = _NUMBER.sub("{n}", _QUOTED.sub("'…'", " ".join(text.split())))
    if len(scrubbed) > _SUMMARY_LIMIT:
        return scrubbed[: _SUMMARY_LIMIT - 1] + "…"
    return scrubbed
