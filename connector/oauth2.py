"""OAuth 2.0 client credentials as a ``requests`` auth: fetch, cache and renew a bearer token.

The token is cached until ``expires_in`` minus a leeway, so a request never leaves with a token that
expires in flight; the leeway is capped at half the lifetime so short-lived tokens are still reused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from truancy.connector.error_summary import oauth_error_code, summarise_error
from truancy.connector.errors import ConfigurationError, ProtocolError
from truancy.connector.http import HttpSession
from truancy.connector.retry import RetryPolicy

_ADVICE = {
    "invalid_client": "check {name}.client_id / client_secret",
    "unauthorized_client": "the client is not allowed the client_credentials grant; check its registration",
    "invalid_scope": "the requested scopes are not granted to this client; check {name}.scopes "
    "(some providers only accept an empty scope list)",
    "unsupported_grant_type": "the token endpoint does not offer client_credentials; check {name}.token_url",
}


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    fresh_until: float


class ClientCredentials(AuthBase):
    """Bearer auth for one client; thread-safe, so one instance can serve a pool of workers."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] | None = None,
        timeout: float | tuple[float, float] = (5, 30),
        verify: bool | str = True,
        leeway: float = 60,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
        name: str = "sis",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.name = name
        self._scopes = tuple(scopes) if scopes else ()
        self._leeway = leeway
        self._clock = clock
        self._http = HttpSession(
            token_url,
            auth=HTTPBasicAuth(client_id, client_secret),
            timeout=timeout,
            retry=retry,
            verify=verify,
            name=name,
        )
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._sent = threading.local()
        """The token this thread's last request carried: what a 401 on this thread rejected."""

    def __repr__(self) -> str:
        host = urlsplit(self.token_url).hostname
        return f"ClientCredentials(name={self.name!r}, token_host={host!r}, scopes={list(self._scopes)!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.token()
        self._sent.token = token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def token(self) -> str:
        """A valid access token, fetched only when the cached one is missing or about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._token.fresh_until:
                self._token = self._fetch()
            return self._token.value

    def refresh(self) -> None:
        """Drop the cached token and fetch a new one (the server rejected it before it expired).

        When a pool of workers all meet the same 401, the first renews the token; the others find
        the token they sent already replaced and use the new one rather than fetch another each."""
        with self._lock:
            rejected = getattr(self._sent, "token", None)
            if self._token is not None and rejected is not None and self._token.value != rejected:
                return
            self._token = self._fetch()

    def close(self) -> None:
        self._http.close()

    def _fetch(self) -> _Token:
        form = {"grant_type": "client_credentials"}
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        requested_at = self._clock()
        response = self._http.request(
            "POST",
            "",
            data=form,
            expected=(200, 400, 401),
            idempotent=True,
        )
        if response.status_code != 200:
            raise self._rejection(response)
        return self._parse(response, requested_at)

    def _rejection(self, response: requests.Response) -> ConfigurationError:
        code = oauth_error_code(response) or "no error code"
        advice = _ADVICE.get(code, "check {name}.client_id / client_secret and {name}.token_url")
        summary = summarise_error(response) if code == "no error code" else code
        return ConfigurationError(
            f"{self.name} token endpoint rejected the client credentials "
            f"({response.status_code} {summary or code}): {advice.format(name=self.name)}"
        )

    def _parse(self, response: requests.Response, requested_at: float) -> _Token:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, Mapping) or not isinstance(payload.get("access_token"), str):
            raise ProtocolError(f"{self.name}: token endpoint answered 200 without an access_token")
        token_type = str(payload.get("token_type", "bearer"))
        if token_type.lower() != "bearer":
            raise ProtocolError(f"{self.name}: token endpoint issued a {token_type!r} token, not a bearer")
        lifetime = _lifetime_seconds(payload.get("expires_in"), self.name)
        leeway = min(self._leeway, lifetime / 2)
        return _Token(value=payload["access_token"], fresh_until=requested_at + lifetime - leeway)


def _lifetime_seconds(expires_in: Any, name: str) -> float:
    """``expires_in`` as seconds; PowerSchool sends it as a string. Absent means one hour (RFC 6749)."""
    if expires_in is None:
        return 3600.0
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        raise ProtocolError(f"{name}: token endpoint sent a non-numeric expires_in") from None
    if lifetime <= 0:
        raise ProtocolError(f"{name}: token endpoint sent a token that is already expired")
    return lifetime
