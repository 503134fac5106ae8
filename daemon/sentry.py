"""Optional Sentry error reporting, configured so that no student data can leave the district.

sentry-sdk's defaults would send frame locals, HTTP query strings and record paths (checked in
``docs/style-anchors.md`` section 0.3). This configuration turns those off, drops URLs down to their
endpoint, scrubs known personal keys at any depth, and strips request data from every event.
"""

from __future__ import annotations

import re
from typing import Any, cast

from truancy.daemon.settings import SentrySettings, SettingsError

PERSONAL_KEYS = [
    "given_name", "givenName", "family_name", "familyName", "middle_name", "middleName", "name",
    "first_name", "last_name", "lastfirst", "dob", "birth_date", "birthDate", "sourced_id", "sourcedId",
    "student_id", "studentid", "studentsdcid", "student_number", "sis_ref", "email", "phone", "note",
    "note_text", "text", "username", "identifier", "userIds",
]  # fmt: skip
RECORD_SEGMENT = re.compile(r"/(?=[^/]*\d)[^/?#]+")
"""A path segment carrying a digit is a record key (``/students/stu-123``, ``/u_truancy_flags/42``)."""


def scrub_url(url: str) -> str:
    """``https://sis/ws/schema/table/u_flags/42?q=x`` -> ``https://sis/ws/schema/table/u_flags/{id}``."""
    base = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = base.partition("://")
    if not sep:
        return RECORD_SEGMENT.sub("/{id}", base)
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host}" + (RECORD_SEGMENT.sub("/{id}", slash + path) if slash else "")


def strip_breadcrumb(crumb: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any] | None:
    data = crumb.get("data")
    if isinstance(data, dict):
        data.pop("http.query", None)
        data.pop("http.fragment", None)
        if isinstance(data.get("url"), str):
            data["url"] = scrub_url(data["url"])
    return crumb


def strip_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any] | None:
    """The last filter: no request data, no user, no local variables, whatever an integration added."""
    event.pop("request", None)
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    return event


def init_sentry(settings: SentrySettings, district: str, release: str) -> bool:
    """Start Sentry when a DSN is configured; True when it is on."""
    if settings.dsn is None or not settings.dsn.get_secret_value():
        return False
    try:
        import sentry_sdk  # type: ignore[import-not-found, unused-ignore]
        from sentry_sdk.scrubber import (  # type: ignore[import-not-found, unused-ignore]
            DEFAULT_DENYLIST,
            EventScrubber,
        )
    except ImportError:
        raise SettingsError(
            "sentry.dsn is set but sentry-sdk is not installed: pip install 'truancy-sync[sentry]', "
            "or remove sentry.dsn"
        ) from None
    sentry_sdk.init(
        dsn=settings.dsn.get_secret_value(),
        environment=settings.environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_breadcrumb=cast(Any, strip_breadcrumb),
        before_send=cast(Any, strip_event),
        event_scrubber=EventScrubber(recursive=True, denylist=[*DEFAULT_DENYLIST, *PERSONAL_KEYS]),
    )
    sentry_sdk.set_tag("district", district)
    return True
