"""HttpSession over a real loopback server: retries, throttling, error mapping, redacted logs."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from truancy.connector.errors import ConfigurationError, HttpStatusError, ProtocolError, TransientError
from truancy.connector.gate import RequestGate
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.redaction import path_template, scrub_server_text
from truancy.connector.retry import retry_after_seconds

IMSX_NOT_FOUND = {
    "imsx_codeMajor": "failure",
    "imsx_severity": "error",
    "imsx_description": "No user with sourcedId 'stu-10001'",
    "imsx_CodeMinor": {
        "imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": "unknownobject"}
        ]
    },
}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def session(httpserver: HTTPServer, sleeps: list[float]) -> HttpSession:
    policy = RetryPolicy(max_attempts=3, initial_wait=0.5, max_wait=4.0, sleep=sleeps.append)
    return HttpSession(httpserver.url_for("/api"), retry=policy, name="sis.test")


def test_given_a_500_then_200_when_get_then_retried_once_and_returns(
    httpserver: HTTPServer, session: HttpSession, sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request("/api/users").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/api/users").respond_with_json({"users": []})

    response = session.get("users")

    assert response.json() == {"users": []}
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 1.0
    assert session.stats.retries == 1
    assert session.stats.by_status == {500: 1, 200: 1}


def test_given_429_with_retry_after_when_get_then_waits_what_the_server_asked(
    httpserver: HTTPServer, session: HttpSession, sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request("/api/users").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/api/users").respond_with_json({"users": []})

    session.get("users")

    assert sleeps == [1.0]
    assert session.stats.throttled == 1


def test_given_a_pool_and_429_with_retry_after_on_one_request_then_the_next_request_waits_it_out_too(
    httpserver: HTTPServer, session: HttpSession, sleeps: list[float]
) -> None:
    session.gate = RequestGate(4)
    httpserver.expect_ordered_request("/api/users").respond_with_data(
        "", status=429, headers={"Retry-After": "30"}
    )
    httpserver.expect_ordered_request("/api/users").respond_with_json({"users": []})
    httpserver.expect_ordered_request("/api/orgs").respond_with_json({"orgs": []})
    assert session.get("users").status_code == 200
    assert sleeps == [30.0]  # the recorded sleep returns at once, so the pause is still running

    other: list[int] = []
    worker = threading.Thread(target=lambda: other.append(session.get("orgs").status_code))
    worker.start()
    worker.join(10)

    assert other == [200]
    assert len(sleeps) == 2
    assert 0 < sleeps[1] <= 30.0  # another worker's request held back until the SIS's wait ends


def test_given_a_pool_a_request_paced_by_429s_past_its_attempts_still_goes_through(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    """A 429 met in a pool is the pool finding the SIS's limit: it does not use up the request's
    attempts, so a write unlucky in several bursts is not lost to a cycle failure. Without a pool the
    same answers exhaust the attempts."""
    attempts = session.retry.max_attempts
    for _ in range(attempts + 1):
        httpserver.expect_ordered_request("/api/notes", method="POST").respond_with_data(
            "", status=429, headers={"Retry-After": "0"}
        )
    httpserver.expect_ordered_request("/api/notes", method="POST").respond_with_json({"id": 1})
    session.gate = RequestGate(4)

    assert session.post("notes", json={}).status_code == 200

    session.gate = None
    for _ in range(attempts):
        httpserver.expect_ordered_request("/api/notes", method="POST").respond_with_data(
            "", status=429, headers={"Retry-After": "0"}
        )
    with pytest.raises(TransientError, match=f"after {attempts} attempts"):
        session.post("notes", json={})


def test_each_thread_sends_on_its_own_connection_session(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    httpserver.expect_request("/api/users").respond_with_json({"users": []})
    sessions: list[object] = []

    def send() -> None:
        session.get("users")
        sessions.append(session._session)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len({id(s) for s in sessions}) == 4
    session.close()
    assert session._open == []


def test_given_a_retry_after_beyond_the_cap_when_get_then_transient_error_without_sleeping(
    httpserver: HTTPServer, session: HttpSession, sleeps: list[float]
) -> None:
    httpserver.expect_request("/api/users").respond_with_data("", status=503, headers={"Retry-After": "3600"})

    with pytest.raises(TransientError, match="Retry-After 3600 s"):
        session.get("users")

    assert sleeps == []


def test_given_a_500_when_post_then_not_repeated(httpserver: HTTPServer, session: HttpSession) -> None:
    httpserver.expect_request("/api/rows", method="POST").respond_with_data("", status=500)

    with pytest.raises(TransientError, match="not repeated"):
        session.post("rows", json={"a": "b"})

    assert len(httpserver.log) == 1


def test_given_a_503_when_post_then_repeated_because_it_was_not_processed(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    httpserver.expect_ordered_request("/api/rows", method="POST").respond_with_data("", status=503)
    httpserver.expect_ordered_request("/api/rows", method="POST").respond_with_json({"ok": True})

    assert session.post("rows", json={}).json() == {"ok": True}


def test_given_an_idempotent_post_when_500_then_repeated(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    httpserver.expect_ordered_request("/api/query", method="POST").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/api/query", method="POST").respond_with_json({"record": []})

    assert session.post("query", json={}, idempotent=True).json() == {"record": []}


def test_given_persistent_5xx_when_get_then_transient_error_names_attempts_and_last_status(
    httpserver: HTTPServer, session: HttpSession, sleeps: list[float]
) -> None:
    httpserver.expect_request("/api/users").respond_with_data("", status=502)

    with pytest.raises(TransientError, match=r"after 3 attempts \(last: HTTP 502\)"):
        session.get("users")

    assert len(sleeps) == 2
    assert len(httpserver.log) == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_given_connection_refused_when_request_then_retried_and_transient_error(method: str) -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=2, sleep=sleeps.append)
    session = HttpSession(f"http://127.0.0.1:{_closed_port()}", retry=policy)

    with pytest.raises(TransientError, match="after 2 attempts"):
        session.request(method, "users")

    assert len(sleeps) == 1


def test_given_403_when_get_then_configuration_error(httpserver: HTTPServer, session: HttpSession) -> None:
    httpserver.expect_request("/api/users").respond_with_json({"message": "no scope"}, status=403)

    with pytest.raises(ConfigurationError, match="scope or permission"):
        session.get("users")


def test_given_401_and_no_refreshable_auth_when_get_then_configuration_error_names_settings(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    httpserver.expect_request("/api/users").respond_with_data("", status=401)

    with pytest.raises(ConfigurationError, match=r"check sis\.test\.client_id / client_secret"):
        session.get("users")


def test_given_404_with_imsx_when_get_then_status_error_with_scrubbed_summary(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    httpserver.expect_request("/api/users/stu-10001").respond_with_json(IMSX_NOT_FOUND, status=404)

    with pytest.raises(HttpStatusError) as caught:
        session.get("users/stu-10001")

    assert caught.value.status == 404
    assert caught.value.summary is not None
    assert caught.value.summary.startswith("unknownobject")
    assert "10001" not in str(caught.value)
    assert "GET /api/users/{id}" in str(caught.value)


def test_given_an_expected_status_when_request_then_returned_without_error(
    httpserver: HTTPServer, session: HttpSession
) -> None:
    httpserver.expect_request("/api/rows/7", method="DELETE").respond_with_data("", status=404)

    assert session.delete("rows/7", expected=(204, 404)).status_code == 404


def test_given_an_absolute_url_on_another_origin_when_request_then_refused(session: HttpSession) -> None:
    with pytest.raises(ProtocolError, match="another origin"):
        session.get("http://elsewhere.example/steal")


def test_given_requests_with_ids_and_queries_when_logged_then_only_templates_appear(
    httpserver: HTTPServer, session: HttpSession, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_ordered_request("/api/users/stu-10001").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/api/users/stu-10001").respond_with_json({})
    caplog.set_level(logging.DEBUG, logger="truancy.connector.http")

    session.get("users/stu-10001", params={"filter": "familyName='Doe'"}, headers={"X-Secret": "hunter2"})

    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("truancy."))
    assert "/api/users/{id}" in text
    assert "retrying GET" in text
    for leaked in ("stu-10001", "10001", "filter", "Doe", "hunter2", "?"):
        assert leaked not in text


def test_given_retry_after_as_http_date_when_parsed_then_seconds_until_then() -> None:
    now = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)

    assert retry_after_seconds("Mon, 05 Jan 2026 12:00:07 GMT", now) == 7.0
    assert retry_after_seconds("Mon, 05 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("12", now) == 12.0
    assert retry_after_seconds("soon", now) is None


@pytest.mark.parametrize(
    ("url", "template"),
    [
        (
            "http://h/ims/oneroster/rostering/v1p2/users/stu-10001?x=1",
            "/ims/oneroster/rostering/v1p2/users/{id}",
        ),
        ("/ws/schema/table/u_truancy_flags/42", "/ws/schema/table/u_truancy_flags/{id}"),
        ("/ws/v1/district/student", "/ws/v1/district/student"),
        ("/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301/classes", "/users/{id}/classes"),
        (
            "/ws/schema/query/com.truancysync.attendance.daily.records",
            "/ws/schema/query/com.truancysync.attendance.daily.records",
        ),
    ],
)
def test_path_template_replaces_id_segments_and_drops_query(url: str, template: str) -> None:
    assert path_template(url) == template


def test_scrub_server_text_blanks_quoted_values_and_numbers() -> None:
    assert scrub_server_text("studentsdcid 10001 not found for 'Mary O\u2019Neil'") == (
        "studentsdcid {n} not found for '…'"
    )


def test_given_a_read_timeout_when_post_then_not_repeated(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(_request: Request) -> Response:
        release.wait(5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/rows", method="POST").respond_with_handler(slow)
    session = HttpSession(
        httpserver.url_for("/api"), timeout=(5, 0.2), retry=RetryPolicy(sleep=lambda _s: None)
    )

    try:
        with pytest.raises(TransientError, match="not repeated because it is not idempotent"):
            session.post("rows", json={})
    finally:
        release.set()

    # the server answers the abandoned request once released: wait for it, so its log entry cannot
    # land in the next test's log (the server is shared)
    deadline = time.monotonic() + 10
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(httpserver.log) == 1
    assert session.stats.retries == 0
