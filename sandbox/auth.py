"""OAuth 2 client-credentials tokens, one store per protocol.

OneRoster and PowerSchool get separate stores so a token from one is rejected by the other, as
on a real SIS where they are different services.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

TOKEN_LIFETIME_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Grant:
    scopes: frozenset[str]
    expires_at: float


class TokenStore:
    """Issued bearer tokens and what they grant; thread-safe."""

    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, scopes: frozenset[str]) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = Grant(scopes, time.monotonic() + TOKEN_LIFETIME_SECONDS)
        return token

    def grant_for(self, authorization: str | None) -> Grant | None:
        """The grant behind an ``Authorization: Bearer`` header, or None if missing, unknown or expired."""
        if authorization is None or not authorization.lower().startswith("bearer "):
            return None
        with self._lock:
            grant = self._grants.get(authorization[len("bearer ") :].strip())
        if grant is None or grant.expires_at <= time.monotonic():
            return None
        return grant

    def valid(self, token: str | None) -> bool:
        """Whether ``token`` (e.g. a browser session cookie) was issued here and has not expired."""
        return token is not None and self.grant_for(f"Bearer {token}") is not None

    def expire_all(self) -> None:
        with self._lock:
            self._grants.clear()


@dataclass(frozen=True, slots=True)
class TokenRequest:
    client_id: str | None
    client_secret: str | None
    grant_type: str | None
    scope: str | None


def parse_token_request(authorization: str | None, body: bytes) -> TokenRequest:
    """Client credentials from HTTP Basic (RFC 6749 2.3.1, form-encoded) or from the form body."""
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if authorization is not None and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[len("basic ") :].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" in decoded:
            user, password = decoded.split(":", 1)
            client_id, client_secret = unquote(user), unquote(password)
    return TokenRequest(client_id, client_secret, form.get("grant_type"), form.get("scope"))


def credentials_match(request: TokenRequest, client_id: str, client_secret: str) -> bool:
    return (
        request.client_id is not None
        and request.client_secret is not None
        and hmac.compare_digest(request.client_id.encode(), client_id.encode())
        and hmac.compare_digest(request.client_secret.encode(), client_secret.encode())
    )
