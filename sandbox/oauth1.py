"""OAuth 1.0a signature verification (RFC 5849, two-legged), written from the RFC with the stdlib.

It is deliberately not oauthlib, the library the connector signs with: a shared bug in one library
would let a wrong signature pass both sides. Timestamps are accepted within a window of the server's
clock and each nonce only once inside it, as OneRoster 1.1 providers do, so a client that retries
with a stale signature is refused here as it would be in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

TIMESTAMP_WINDOW_SECONDS = 300
_DIGESTS: dict[str, Callable[[], object]] = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}
_HEADER_PARAM = re.compile(r'\s*([\w-]+)\s*=\s*"([^"]*)"\s*')
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SignatureRejectedError(Exception):
    """Why a request's signature was refused; the text is safe to send back to the client."""


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What the verifier needs from an HTTP request."""

    method: str
    url: str
    authorization: str | None
    form_body: bytes = b""


def _encode(value: str) -> str:
    """RFC 5849 3.6: percent-encode everything but the unreserved characters."""
    return quote(value, safe="-._~")


def _authorization_params(header: str | None) -> dict[str, str]:
    if header is None or not header[:6].lower() == "oauth ":
        raise SignatureRejectedError("an OAuth 1.0a Authorization header is required")
    params: dict[str, str] = {}
    for part in header[6:].split(","):
        match = _HEADER_PARAM.fullmatch(part)
        if match is None:
            raise SignatureRejectedError('the Authorization header is not a list of name="value" pairs')
        params[unquote(match.group(1))] = unquote(match.group(2))
    return params


def _base_string_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port and parts.port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{port}{parts.path or '/'}"


def _normalised(params: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((_encode(name), _encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in encoded)


def signature_base_string(request: SignedRequest, oauth_params: dict[str, str]) -> str:
    query = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
    body = parse_qsl(request.form_body.decode("utf-8", "replace"), keep_blank_values=True)
    signed = [(k, v) for k, v in oauth_params.items() if k not in ("oauth_signature", "realm")]
    parameters = _normalised([*query, *body, *signed])
    return "&".join(
        _encode(part) for part in (request.method.upper(), _base_string_uri(request.url), parameters)
    )


def sign(base_string: str, method: str, consumer_secret: str) -> str:
    key = f"{_encode(consumer_secret)}&".encode()
    digest = hmac.new(key, base_string.encode(), _DIGESTS[method]).digest()  # type: ignore[arg-type]
    return base64.b64encode(digest).decode()


class OAuth1Verifier:
    """Checks consumer key, signature method, signature, timestamp window and nonce reuse."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        methods: frozenset[str] = frozenset(_DIGESTS),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = consumer_key
        self._secret = consumer_secret
        self._methods = methods
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def verify(self, request: SignedRequest) -> None:
        """Return quietly for a valid request; raise ``SignatureRejectedError`` saying what is wrong."""
        params = _authorization_params(request.authorization)
        missing = [
            name
            for name in ("oauth_consumer_key", "oauth_signature_method", "oauth_timestamp", "oauth_nonce")
            if not params.get(name)
        ]
        if missing or "oauth_signature" not in params:
            raise SignatureRejectedError(
                f"missing OAuth parameters: {', '.join(missing or ['oauth_signature'])}"
            )
        if params.get("oauth_version", "1.0") != "1.0":
            raise SignatureRejectedError("oauth_version must be 1.0")
        if not hmac.compare_digest(params["oauth_consumer_key"].encode(), self._key.encode()):
            raise SignatureRejectedError("unknown oauth_consumer_key")
        method = params["oauth_signature_method"]
        if method not in self._methods:
            raise SignatureRejectedError(
                f"oauth_signature_method must be one of {', '.join(sorted(self._methods))}"
            )
        expected = sign(signature_base_string(request, params), method, self._secret)
        if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
            raise SignatureRejectedError("the signature does not match the request")
        self._check_fresh(params["oauth_timestamp"], params["oauth_nonce"])

    def _check_fresh(self, timestamp: str, nonce: str) -> None:
        now = self._clock()
        if not timestamp.isdigit() or abs(int(timestamp) - now) > TIMESTAMP_WINDOW_SECONDS:
            raise SignatureRejectedError(
                f"oauth_timestamp is more than {TIMESTAMP_WINDOW_SECONDS} s from the server's clock"
            )
        with self._lock:
            self._seen = {
                key: at for key, at in self._seen.items() if now - at <= 2 * TIMESTAMP_WINDOW_SECONDS
            }
            if (timestamp, nonce) in self._seen:
                raise SignatureRejectedError("this oauth_nonce was already used")
            self._seen[(timestamp, nonce)] = now
