"""OAuth 1.0a two-legged request signing, as OneRoster 1.1 requires, as a ``requests`` auth.

Every call signs afresh: ``HttpSession`` re-applies auth on each attempt, so a retried request gets a
new nonce and timestamp and a server that rejects replayed nonces accepts the retry. Servers also
reject timestamps too far from their clock; when one does (a 401), ``refresh()`` adopts the offset
measured from the server's ``Date`` header, so a host with a wrong clock still syncs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, Client
from requests.auth import AuthBase

SignatureMethod = Literal["HMAC-SHA256", "HMAC-SHA1"]
_METHODS: dict[str, str] = {"HMAC-SHA256": SIGNATURE_HMAC_SHA256, "HMAC-SHA1": SIGNATURE_HMAC_SHA1}
_FORM = "application/x-www-form-urlencoded"

DEFAULT_SKEW_TOLERANCE = 30.0
"""Seconds of disagreement with the server's clock that are left alone (servers allow minutes)."""


class OAuth1Signer(AuthBase):
    """Signs each request with a consumer key and secret (no token), in the Authorization header."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        signature_method: SignatureMethod = "HMAC-SHA256",
        skew_tolerance: float = DEFAULT_SKEW_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signature_method not in _METHODS:
            raise ValueError(f"signature_method must be one of {', '.join(_METHODS)}")
        self._key = consumer_key
        self._secret = consumer_secret
        self.signature_method = signature_method
        self._tolerance = skew_tolerance
        self._clock = clock
        self._lock = threading.Lock()
        self._offset = 0.0
        self._observed_skew: float | None = None

    def __repr__(self) -> str:
        return f"OAuth1Signer(signature_method={self.signature_method!r}, clock_offset={self._offset:.0f})"

    @property
    def clock_offset(self) -> float:
        """Seconds added to the local clock when stamping requests."""
        return self._offset

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        client = Client(
            self._key,
            client_secret=self._secret,
            signature_method=_METHODS[self.signature_method],
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            timestamp=str(int(self._clock() + self._offset)),
        )
        is_form = (request.headers.get("Content-Type") or "").startswith(_FORM)
        body = request.body if is_form else None
        _, headers, _ = client.sign(
            str(request.url),
            http_method=str(request.method),
            body=body,
            headers={"Content-Type": _FORM} if is_form else None,
        )
        request.headers["Authorization"] = headers["Authorization"]
        request.hooks["response"].append(self._observe_server_clock)
        return request

    def refresh(self) -> None:
        """After a 401: adopt the server's clock if ours disagrees by more than the tolerance.

        ``HttpSession`` then repeats the request once; if the clock was not the problem the repeat
        fails the same way and the caller is told to check the credentials.
        """
        with self._lock:
            if self._observed_skew is not None and abs(self._observed_skew) > self._tolerance:
                self._offset = self._observed_skew

    def _observe_server_clock(self, response: requests.Response, **_: Any) -> requests.Response:
        server_time = _date_header(response.headers.get("Date"))
        if server_time is not None:
            with self._lock:
                self._observed_skew = server_time - self._clock()
        return response


def _date_header(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
