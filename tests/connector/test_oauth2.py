"""ClientCredentials against a loopback token endpoint: caching, expiry, refresh, error advice."""

from __future__ import annotations

import base64
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from truancy.connector.errors import ConfigurationError, TransientError
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oauth2 import ClientCredentials

SECRET = "s3cr3t-Value"
NO_WAIT = RetryPolicy(max_attempts=2, sleep=lambda _seconds: None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TokenIssuer:
    """Hands out tok-1, tok-2, ... and remembers every token request it saw."""

    def __init__(self, expires_in: int | str = 3600) -> None:
        self.expires_in = expires_in
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    def __call__(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        self.requests.append((request.headers.get("Authorization", ""), form))
        body = {
            "access_token": f"tok-{len(self.requests)}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return Response(_json(body), content_type="application/json")

    @property
    def issued(self) -> int:
        return len(self.requests)


def _json(body: object) -> str:
    return json.dumps(body)


def _auth(
    httpserver: HTTPServer,
    clock: FakeClock | None = None,
    *,
    scopes: list[str] | None = None,
    leeway: float = 60,
) -> ClientCredentials:
    return ClientCredentials(
        httpserver.url_for("/oauth/token"),
        "client-a",
        SECRET,
        retry=NO_WAIT,
        name="sis.oneroster",
        clock=clock or FakeClock(),
        scopes=scopes,
        leeway=leeway,
    )


def test_given_scopes_when_token_fetched_then_basic_auth_and_form_are_sent(httpserver: HTTPServer) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(issuer)
    auth = _auth(httpserver, scopes=["scope/a", "scope/b"])

    assert auth.token() == "tok-1"

    header, form = issuer.requests[0]
    assert header == "Basic " + base64.b64encode(f"client-a:{SECRET}".encode()).decode()
    assert form == {"grant_type": ["client_credentials"], "scope": ["scope/a scope/b"]}


def test_given_no_scopes_when_token_fetched_then_no_scope_parameter(httpserver: HTTPServer) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)

    _auth(httpserver).token()

    assert issuer.requests[0][1] == {"grant_type": ["client_credentials"]}


def test_given_a_cached_token_when_used_until_expiry_then_fetched_again_only_after_leeway(
    httpserver: HTTPServer,
) -> None:
    issuer = TokenIssuer(expires_in="3600")
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)
    clock = FakeClock()
    auth = _auth(httpserver, clock)

    assert auth.token() == "tok-1"
    clock.now += 3600 - 61
    assert auth.token() == "tok-1"
    clock.now += 1
    assert auth.token() == "tok-2"


def test_given_a_short_lived_token_when_leeway_exceeds_half_its_life_then_leeway_is_capped(
    httpserver: HTTPServer,
) -> None:
    issuer = TokenIssuer(expires_in=60)
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)
    clock = FakeClock()
    auth = _auth(httpserver, clock, leeway=60)

    auth.token()
    clock.now += 29
    auth.token()
    assert issuer.issued == 1
    clock.now += 1
    auth.token()
    assert issuer.issued == 2


def test_given_many_threads_when_token_needed_then_fetched_once(httpserver: HTTPServer) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)
    auth = _auth(httpserver)

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = set(pool.map(lambda _i: auth.token(), range(32)))

    assert tokens == {"tok-1"}
    assert issuer.issued == 1


def test_given_a_revoked_token_when_resource_answers_401_then_refreshed_and_repeated_once(
    httpserver: HTTPServer,
) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)
    seen: list[str] = []

    def resource(request: Request) -> Response:
        seen.append(request.headers.get("Authorization", ""))
        status = 200 if request.headers.get("Authorization") == "Bearer tok-2" else 401
        return Response("{}", status=status, content_type="application/json")

    httpserver.expect_request("/api/users").respond_with_handler(resource)
    session = HttpSession(httpserver.url_for("/api"), auth=_auth(httpserver), retry=NO_WAIT)

    assert session.get("users").status_code == 200
    assert seen == ["Bearer tok-1", "Bearer tok-2"]


def test_given_a_pool_meeting_one_revoked_token_then_one_new_token_serves_them_all(
    httpserver: HTTPServer,
) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)

    def resource(request: Request) -> Response:
        status = 401 if request.headers.get("Authorization") == "Bearer tok-1" else 200
        return Response("{}", status=status, content_type="application/json")

    httpserver.expect_request("/api/users").respond_with_handler(resource)
    session = HttpSession(httpserver.url_for("/api"), auth=_auth(httpserver), retry=NO_WAIT)
    session.get("users")  # tok-1 is rejected once, tok-2 fetched
    assert issuer.issued == 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _i: session.get("users").status_code, range(32)))

    assert statuses == [200] * 32
    assert issuer.issued == 2
    session.close()


def test_given_workers_that_all_sent_the_revoked_token_then_only_the_first_refresh_fetches(
    httpserver: HTTPServer,
) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)
    auth = _auth(httpserver)
    barrier = threading.Barrier(8)

    def sent_then_refreshed(_index: int) -> str:
        signed = auth(requests.Request("GET", httpserver.url_for("/api/users")).prepare())
        assert signed.headers["Authorization"] == "Bearer tok-1"
        barrier.wait()  # every worker has sent tok-1 before any learns it was rejected
        auth.refresh()
        return auth.token()

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = set(pool.map(sent_then_refreshed, range(8)))

    assert tokens == {"tok-2"}
    assert issuer.issued == 2


def test_given_a_401_after_refresh_when_get_then_configuration_error(httpserver: HTTPServer) -> None:
    issuer = TokenIssuer()
    httpserver.expect_request("/oauth/token").respond_with_handler(issuer)
    httpserver.expect_request("/api/users").respond_with_data("", status=401)
    session = HttpSession(
        httpserver.url_for("/api"), auth=_auth(httpserver), retry=NO_WAIT, name="sis.oneroster"
    )

    with pytest.raises(ConfigurationError, match=r"sis\.oneroster"):
        session.get("users")

    assert issuer.issued == 2
    assert len([entry for entry in httpserver.log if entry[0].path == "/api/users"]) == 2


@pytest.mark.parametrize(
    ("status", "error", "advice"),
    [
        (401, "invalid_client", r"\(401 invalid_client\): check sis\.oneroster\.client_id / client_secret"),
        (400, "invalid_scope", r"\(400 invalid_scope\): .*check sis\.oneroster\.scopes"),
    ],
)
def test_given_a_token_endpoint_rejection_when_token_then_configuration_error_with_advice(
    httpserver: HTTPServer, status: int, error: str, advice: str, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/oauth/token").respond_with_json({"error": error}, status=status)
    caplog.set_level(logging.DEBUG)
    auth = _auth(httpserver)

    with pytest.raises(ConfigurationError, match=advice) as caught:
        auth.token()

    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text
    assert len(httpserver.log) == 1


def test_given_a_failing_token_endpoint_when_token_then_retried_then_transient_error(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/oauth/token").respond_with_data("", status=500)

    with pytest.raises(TransientError, match="after 2 attempts"):
        _auth(httpserver).token()

    assert len(httpserver.log) == 2


def test_given_credentials_when_repr_then_no_secret(httpserver: HTTPServer) -> None:
    auth = _auth(httpserver)

    assert SECRET not in repr(auth)
    assert "client-a" not in repr(auth)


def test_given_requests_when_logged_then_no_token_or_secret(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/oauth/token").respond_with_handler(TokenIssuer())
    httpserver.expect_request("/api/users").respond_with_json({})
    caplog.set_level(logging.DEBUG)

    HttpSession(httpserver.url_for("/api"), auth=_auth(httpserver)).get("users")

    assert "/api/users" in caplog.text
    for leaked in ("tok-1", SECRET, "Basic ", "Bearer"):
        assert leaked not in caplog.text
