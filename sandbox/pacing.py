"""A remote SIS's pace: a delay on every response and a cap on requests in flight.

On loopback the sandbox answers in about a millisecond, so a client that sends one write at a time
looks fast; against a district's SIS over the internet every request costs tens of milliseconds.
``latency_ms`` puts that cost back, so benchmarks measure what a district would see.

``max_concurrent`` rejects what a busy SIS rejects: PowerSchool's "Minimum time interval (ms) between
API requests per plugin" setting refuses a plugin's requests beyond its allowance with a "too many
requests, wait N seconds" answer (PowerSchool SIS admin guide, "Configure Global API and SIF
Settings", https://ps.powerschool-docs.com/pssis-admin/23.5/configure-global-api-and-sif-settings),
and HTTP says how: 429 Too Many Requests with ``Retry-After`` (RFC 6585 section 4). The sandbox counts
requests in flight rather than per interval, because concurrency is what a client's pool controls.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_LATENCY_MS = 60_000
Refusal = Callable[[int], Response]
"""The 429 answer asking the client to wait the given seconds."""


class PacingError(ValueError):
    """A pacing setting out of range; the message names the setting."""


@dataclass(frozen=True, slots=True)
class PacingSettings:
    latency_ms: int = 0
    """Added to every response (the SIS's round trip and processing time)."""
    max_concurrent: int | None = None
    """Requests served at once; any beyond are answered 429 at once. None: no cap."""
    retry_after: int = 1
    """Seconds the 429 asks the client to wait."""

    def __post_init__(self) -> None:
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise PacingError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise PacingError("max_concurrent must be at least 1 (or null for no cap)")
        if self.retry_after < 0:
            raise PacingError("retry_after must be 0 or more seconds")

    @classmethod
    def from_mapping(cls, body: Mapping[str, Any]) -> PacingSettings:
        try:
            cap = body.get("max_concurrent")
            return cls(
                latency_ms=int(body.get("latency_ms", 0)),
                max_concurrent=None if cap is None else int(cap),
                retry_after=int(body.get("retry_after", 1)),
            )
        except (TypeError, ValueError) as exc:
            raise PacingError(str(exc) or "expected integers") from None

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "max_concurrent": self.max_concurrent,
            "retry_after": self.retry_after,
        }


class Pacing:
    """The settings in force, requests in flight, and how many were turned away."""

    def __init__(self, settings: PacingSettings | None = None) -> None:
        self.settings = settings or PacingSettings()
        self._in_flight = 0
        self.rejected = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()

    def configure(self, settings: PacingSettings) -> None:
        with self._lock:
            self.settings = settings

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                **self.settings.as_dict(),
                "in_flight": self._in_flight,
                "peak_in_flight": self.peak_in_flight,
                "rejected": self.rejected,
            }

    def reset_counts(self) -> None:
        with self._lock:
            self.rejected = 0
            self.peak_in_flight = self._in_flight

    async def serve(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, too_many: Refusal
    ) -> None:
        """Answer the request at the SIS's pace, or with ``too_many(retry_after)`` over the cap.

        Plain ASGI rather than a Starlette ``BaseHTTPMiddleware``: that wrapper costs the sandbox's one
        event loop about a millisecond a request, which at a few hundred requests a second queues
        requests behind each other as no real SIS does (its requests are served side by side)."""
        with self._lock:
            settings = self.settings
            refused = settings.max_concurrent is not None and self._in_flight >= settings.max_concurrent
            if refused:
                self.rejected += 1
            else:
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        if refused:
            # The refusal crosses the same network as any answer.
            await asyncio.sleep(settings.latency_ms / 1000)
            await too_many(settings.retry_after)(scope, receive, send)
            return
        try:
            if not settings.latency_ms:
                await app(scope, receive, send)
                return
            # Answered, then delayed: a write lands even if its client is gone before the answer
            # arrives, as on a real SIS, and the request body is read while the client is there.
            answer: list[Message] = []

            async def hold(message: Message) -> None:
                answer.append(message)

            try:
                await app(scope, receive, hold)
            finally:  # what was answered before a failure (a dropped connection) still goes out
                await asyncio.sleep(settings.latency_ms / 1000)
                for message in answer:
                    await send(message)
        finally:
            with self._lock:
                self._in_flight -= 1
