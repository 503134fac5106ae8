"""One pooled HTTP session per SIS endpoint, with retries, auth refresh and redacted logging.

Every call goes through ``HttpSession.request``: it signs and sends, retries what is safe to retry
(see ``truancy.connector.retry``), refreshes an expired token once, and turns every other failure
into a ``ConnectorError`` whose message is safe to log.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import requests
import tenacity
from requests.auth import AuthBase
from urllib3.exceptions import MaxRetryError, NewConnectionError

from truancy.connector.error_summary import summarise_error
from truancy.connector.errors import ConfigurationError, HttpStatusError, ProtocolError, TransientError
from truancy.connector.gate import RequestGate
from truancy.connector.redaction import path_template
from truancy.connector.retry import (
    HONOURS_RETRY_AFTER,
    Resolution,
    RetryPolicy,
    resolve_status,
    retry_after_seconds,
)

__all__ = ["HttpSession", "HttpStats", "RetryPolicy"]

logger = logging.getLogger("truancy.connector.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_EXPECTED = (200, 201, 204)


def _package_version() -> str:
    try:
        return version("truancy-sync")
    except PackageNotFoundError:
        return "0+source"


DEFAULT_USER_AGENT = f"truancy-sync/{_package_version()}"


@dataclass
class HttpStats:
    """Counters for metrics and benchmarks; safe to read while requests are in flight."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_response(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] += 1
            if status == 429:
                self.throttled += 1

    def record_failure(self) -> None:
        with self._lock:
            self.requests += 1

    def record_retry(self) -> None:
        with self._lock:
            self.retries += 1


POOL_THROTTLE_FACTOR = 4
"""How many times ``max_attempts`` a pooled request may be paced by 429s before it gives up."""


class _RetryableError(Exception):
    """One failed attempt that may be repeated; never leaves this module."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection failed before any byte of the request reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)


class HttpSession:
    """A ``requests.Session`` bound to one base URL, credentials and retry policy.

    An ``auth`` with a ``refresh()`` method (``ClientCredentials``) is refreshed once on a 401 and the
    request repeated once; a second 401 is a configuration problem.

    ``name`` is the settings section the session was configured from (e.g. ``sis.oneroster``); error
    messages point the reader at it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: AuthBase | None = None,
        timeout: float | tuple[float, float] = (5, 60),
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
        verify: bool | str = True,
        user_agent: str = DEFAULT_USER_AGENT,
        name: str = "sis",
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"{name}: the base URL must be an absolute http(s) URL; check {name}.base_url"
            )
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout = timeout
        self.retry = retry
        self.stats = HttpStats()
        self._origin = (parts.scheme, parts.netloc)
        self._auth = auth
        # Read proxy and CA-bundle variables once: with trust_env, requests re-scans os.environ on
        # every request, which costs more than the request itself on a fast local network.
        self._proxies = requests.utils.get_environ_proxies(self.base_url)
        self._verify = _ca_bundle_from_environment() if verify is True else verify
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        # requests.Session is not documented as thread-safe (its cookie jar and adapters are shared
        # state), so each thread of a write pool gets its own, with its own connection pool.
        self._local = threading.local()
        self._open: list[requests.Session] = []
        self._open_lock = threading.Lock()
        self.gate: RequestGate | None = None
        """Set while a pool of workers shares this session: every attempt passes it, and a
        Retry-After one worker is given pauses them all."""
        self._paused_until = 0.0
        """Monotonic time before which no request is sent: a Retry-After one worker was given holds
        back every worker on this endpoint, not just the one that was told."""

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expected: Collection[int] = DEFAULT_EXPECTED,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send a request and return its response when the status is one of ``expected``.

        ``idempotent`` overrides the method's default for calls whose effect is safe to repeat
        (a PowerQuery read or a token request sent as POST).
        """
        method = method.upper()
        url = self._resolve(path_or_url)
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        send = _Send(self, method, url, params, json, data, headers, expected, repeatable)
        response = send.with_retries()
        refresh = getattr(self._auth, "refresh", None)
        if response.status_code == 401 and 401 not in expected and callable(refresh):
            refresh()
            response = send.with_retries()
        return self._checked(response, method, url, expected)

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path_or_url, **kwargs)

    def post(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path_or_url, **kwargs)

    def put(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path_or_url, **kwargs)

    def delete(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path_or_url, **kwargs)

    def close(self) -> None:
        with self._open_lock:
            sessions, self._open = self._open, []
        for session in sessions:
            session.close()

    @property
    def _session(self) -> requests.Session:
        """This thread's ``requests.Session``, made on its first request."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            session.proxies.update(self._proxies)
            session.verify = self._verify
            session.headers.update(self._headers)
            self._local.session = session
            with self._open_lock:
                self._open.append(session)
        return session

    def pause(self, seconds: float) -> float:
        """Send nothing on this session for ``seconds`` (the SIS asked us to wait); the time it ends."""
        with self._open_lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            return self._paused_until

    def _wait_if_paused(self, waited_out: float) -> None:
        """Wait out a pause another request was told of; ``waited_out``: the one this request slept."""
        until = self._paused_until
        delay = until - time.monotonic()
        if until > waited_out and delay > 0:
            self.retry.sleep(delay)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _resolve(self, path_or_url: str) -> str:
        """Join a relative path to the base URL; refuse absolute URLs on another origin.

        Servers hand us absolute URLs (``Link: rel=next``); following one to another host would send
        our bearer token there.
        """
        parts = urlsplit(path_or_url)
        if not parts.scheme:
            return f"{self.base_url}/{path_or_url.lstrip('/')}" if path_or_url else self.base_url
        if (parts.scheme, parts.netloc) != self._origin:
            raise ProtocolError(
                f"{self.name}: refused to follow a URL to another origin ({parts.scheme}://{parts.hostname})"
            )
        return path_or_url

    def _checked(
        self, response: requests.Response, method: str, url: str, expected: Collection[int]
    ) -> requests.Response:
        status = response.status_code
        if status in expected:
            return response
        endpoint = f"{method} {path_template(url)}"
        summary = summarise_error(response)
        detail = f"{status} {summary}" if summary else str(status)
        resolution = resolve_status(status)
        if resolution is Resolution.REFRESH_AUTH:
            raise ConfigurationError(
                f"{self.name} rejected our credentials on {endpoint} ({detail}): "
                f"check {self.name}.client_id / client_secret"
            )
        if resolution is Resolution.FAIL_CONFIGURATION:
            raise ConfigurationError(
                f"{self.name} refused {endpoint} ({detail}): the credentials lack the scope or "
                f"permission for this endpoint; check the client's scopes or plugin access in the SIS"
            )
        raise HttpStatusError(f"{self.name}: {endpoint} failed ({detail})", status=status, summary=summary)


class _Send:
    """One logical request: repeated attempts of sign + send under the session's retry policy."""

    def __init__(
        self,
        owner: HttpSession,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        expected: Collection[int],
        repeatable: bool,
    ) -> None:
        self.owner = owner
        self.method = method
        self.url = url
        self.params = params
        self.json = json
        self.data = data
        self.headers = headers
        self.expected = expected
        self.repeatable = repeatable
        self.attempts = 0
        self.throttled = 0
        self.waited_out = 0.0
        parts = urlsplit(url)
        host = parts.hostname or ""
        self.where = f"{host}:{parts.port}{path_template(url)}" if parts.port else host + path_template(url)
        self.endpoint = f"{method} {path_template(url)}"

    def with_retries(self) -> requests.Response:
        policy = self.owner.retry
        self.attempts = self.throttled = 0
        retrying = tenacity.Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_RetryableError),
            sleep=policy.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt)
        except _RetryableError as last:
            raise TransientError(
                f"{self.owner.name}: {self.endpoint} still failing after {self.attempts} "
                f"attempts (last: {last.reason})"
            ) from None

    def _attempt(self) -> requests.Response:
        self.attempts += 1
        gate = self.owner.gate
        if gate is None:
            return self._attempt_once()
        self.owner._wait_if_paused(self.waited_out)
        try:
            with gate.slot():
                response = self._attempt_once()
        except (_RetryableError, TransientError):
            gate.pushed_back()
            raise
        if response.status_code >= 500:
            gate.pushed_back()
        else:
            gate.went_through()
        return response

    def _attempt_once(self) -> requests.Response:
        attempt = self.attempts
        started = time.perf_counter()
        try:
            response = self.owner._session.request(
                self.method,
                self.url,
                params=self.params,
                json=self.json,
                data=self.data,
                headers=self.headers,
                auth=self.owner._auth,
                timeout=self.owner.timeout,
            )
        except requests.exceptions.SSLError:
            self.owner.stats.record_failure()
            raise ConfigurationError(
                f"{self.owner.name}: TLS verification failed for {self.endpoint}; check the server "
                f"certificate or {self.owner.name}.verify (CA bundle path)"
            ) from None
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            self.owner.stats.record_failure()
            reason = "connect timeout" if isinstance(exc, requests.ConnectTimeout) else type(exc).__name__
            if isinstance(exc, requests.ConnectionError) and _never_sent(exc):
                reason = "connection refused or unreachable"
            logger.debug("%s %s failed: %s (attempt %d)", self.method, self.where, reason, attempt)
            if self.repeatable or _never_sent(exc):
                raise _RetryableError(reason) from None
            raise TransientError(
                f"{self.owner.name}: {self.endpoint} failed ({reason}) after the request may have "
                f"reached the server; not repeated because it is not idempotent"
            ) from None
        except requests.RequestException as exc:
            self.owner.stats.record_failure()
            raise ConfigurationError(
                f"{self.owner.name}: {self.endpoint} could not be sent ({type(exc).__name__}); "
                f"check {self.owner.name}.base_url"
            ) from None
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        status = response.status_code
        self.owner.stats.record_response(status)
        logger.debug(
            "%s %s -> %d in %d ms (attempt %d)",
            self.method,
            self.where,
            status,
            elapsed_ms,
            attempt,
            extra={
                "http_method": self.method,
                "http_path": self.where,
                "http_status": status,
                "elapsed_ms": elapsed_ms,
                "attempt": attempt,
            },
        )
        if status in self.expected:
            return response
        return self._classify(response)

    def _classify(self, response: requests.Response) -> requests.Response:
        status = response.status_code
        resolution = resolve_status(status)
        if resolution is Resolution.RETRY or (
            resolution is Resolution.RETRY_IF_IDEMPOTENT and self.repeatable
        ):
            retry_after = (
                retry_after_seconds(response.headers.get("Retry-After"))
                if status in HONOURS_RETRY_AFTER
                else None
            )
            response.close()
            if status == 429 and self.owner.gate is not None:
                self.throttled += 1
            if self.owner.gate is not None and retry_after is not None:
                # Only a pool has other workers to hold back; this request waits in its retry.
                self.waited_out = self.owner.pause(min(retry_after, self.owner.retry.max_retry_after))
            if retry_after is not None and retry_after > self.owner.retry.max_retry_after:
                raise TransientError(
                    f"{self.owner.name}: {self.endpoint} answered {status} with Retry-After "
                    f"{retry_after:.0f} s, longer than the {self.owner.retry.max_retry_after:.0f} s we wait"
                )
            raise _RetryableError(f"HTTP {status}", retry_after=retry_after)
        if resolution is Resolution.RETRY_IF_IDEMPOTENT:
            raise TransientError(
                f"{self.owner.name}: {self.endpoint} answered {status}; not repeated because the "
                f"write may have been applied"
            )
        return response

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        """Stop after ``max_attempts`` failures. A 429 met while a pool shares the session is the pool
        finding the SIS's limit (its gate narrows and the Retry-After is waited out), not a failure of
        this request, so it counts only toward a wider bound: else the unlucky writes of a burst would
        fail the cycle against a SIS that was only pacing us."""
        policy = self.owner.retry
        failures = state.attempt_number - self.throttled
        return failures >= policy.max_attempts or self.throttled >= policy.max_attempts * POOL_THROTTLE_FACTOR

    def _wait(self, state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, _RetryableError) and exc.retry_after is not None:
            return exc.retry_after
        policy = self.owner.retry
        backoff = tenacity.wait_exponential_jitter(
            multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait
        )
        return float(backoff(state))

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self.owner.stats.record_retry()
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        reason = exc.reason if isinstance(exc, _RetryableError) else "error"
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.info(
            "retrying %s %s after %s (attempt %d of %d, waiting %.1f s)",
            self.method,
            self.where,
            reason,
            state.attempt_number,
            self.owner.retry.max_attempts,
            wait,
            extra={"http_method": self.method, "http_path": self.where, "attempt": state.attempt_number},
        )


def _ca_bundle_from_environment() -> bool | str:
    """The CA bundle requests would take from the environment, else the default store (True)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
