"""How long to wait and whether to try again: the retry policy and the status resolution table.

Retries happen around "sign + send" in ``HttpSession`` (never in urllib3), so a request signed with
OAuth 1.0a gets a fresh nonce and signature on every attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and waits for transient failures.

    ``max_retry_after`` bounds how long a server may ask us to wait: a longer ``Retry-After`` means
    the SIS is in maintenance, which the next sync cycle handles better than a sleeping worker.
    ``sleep`` is injectable so tests can record the requested waits instead of waiting.
    """

    max_attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_wait < 0 or self.max_wait < self.initial_wait:
            raise ValueError("RetryPolicy needs 0 <= initial_wait <= max_wait")


class Resolution(Enum):
    """What to do with a response status that the caller did not list as expected."""

    RETRY = "retry"
    RETRY_IF_IDEMPOTENT = "retry_if_idempotent"
    REFRESH_AUTH = "refresh_auth"
    FAIL_CONFIGURATION = "fail_configuration"
    FAIL = "fail"


STATUS_RESOLUTIONS: Mapping[int, Resolution] = {
    401: Resolution.REFRESH_AUTH,
    403: Resolution.FAIL_CONFIGURATION,
    408: Resolution.RETRY_IF_IDEMPOTENT,
    429: Resolution.RETRY,
    503: Resolution.RETRY,
}
"""Statuses with their own rule. 429 and 503 say the request was not processed, so even a POST may be
repeated; any other 5xx may have applied a write, so only idempotent requests are repeated."""

HONOURS_RETRY_AFTER = frozenset({429, 503})


def resolve_status(status: int) -> Resolution:
    """The resolution for a status, falling back on its class (5xx retry, 4xx fail)."""
    if status in STATUS_RESOLUTIONS:
        return STATUS_RESOLUTIONS[status]
    return Resolution.RETRY_IF_IDEMPOTENT if status >= 500 else Resolution.FAIL


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date); None if unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
