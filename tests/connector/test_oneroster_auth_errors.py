"""OAuth 1.0a against the sandbox's independent verifier, and imsx errors in every provider spelling.

Over real HTTP: clock skew is survived by adopting the server's clock once, a wrong secret is a
configuration error naming what to fix, a filter the server cannot apply falls back to a full read
(said once), and quirky imsx payloads still explain the failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.errors import ConfigurationError
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oauth1 import OAuth1Signer
from truancy.connector.oneroster import OneRosterClient, all_of, where
from truancy.sandbox.server import SandboxServer

V1P1 = "/ims/oneroster/v1p1"
NO_WAIT = RetryPolicy(max_attempts=2, sleep=lambda _: None)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with SandboxServer(students=30, seed=6, as_of=PINNED_AS_OF) as server:
        yield server.url


@pytest.fixture(autouse=True)
def plain_provider(url: str) -> Iterator[None]:
    yield
    requests.delete(f"{url}/_sandbox/quirks", timeout=10).raise_for_status()


def client(url: str, signer: OAuth1Signer) -> OneRosterClient:
    return OneRosterClient(HttpSession(f"{url}{V1P1}", auth=signer, retry=NO_WAIT, name="sis.oneroster"))


def test_a_client_clock_an_hour_slow_adopts_the_server_clock_once(url: str) -> None:
    signer = OAuth1Signer("sandbox", "sandbox", clock=lambda: time.time() - 3600)
    reader = client(url, signer)

    schools = [r for page in reader.iter_pages("schools") for r in page.records]
    again = [r for page in reader.iter_pages("schools") for r in page.records]

    assert schools == again != []
    assert reader.session.stats.by_status[401] == 1
    assert 3500 < signer.clock_offset < 3700


def test_a_small_skew_is_left_alone(url: str) -> None:
    signer = OAuth1Signer("sandbox", "sandbox", clock=lambda: time.time() + 20)

    list(client(url, signer).iter_pages("orgs"))

    assert signer.clock_offset == 0


@pytest.mark.parametrize(
    "quirks",
    [
        {},
        {"lowercase_imsx": True},
        {"status_info_set": True},
        {"lowercase_imsx": True, "status_info_set": True},
    ],
    ids=lambda q: "+".join(q) or "spec",
)
def test_a_wrong_secret_is_a_configuration_error_with_the_server_reason(
    url: str, quirks: dict[str, bool]
) -> None:
    requests.post(f"{url}/_sandbox/quirks", json=quirks, timeout=10).raise_for_status()

    with pytest.raises(ConfigurationError) as caught:
        list(client(url, OAuth1Signer("sandbox", "wrong")).iter_pages("users"))

    message = str(caught.value)
    assert "unauthorisedrequest: the signature does not match the request" in message
    assert "check sis.oneroster.client_id / client_secret" in message
    assert "wrong" not in message


def test_a_filter_the_server_cannot_apply_falls_back_to_a_full_read_said_once(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    reader = client(url, OAuth1Signer("sandbox", "sandbox"))
    unknown = all_of(where("status", "=", "active"), where("favouriteColour", "=", "teal"))

    with caplog.at_level(logging.WARNING, logger="truancy.connector.oneroster"):
        first = [r["sourcedId"] for page in reader.iter_pages("orgs", filter=unknown) for r in page.records]
        second = [r["sourcedId"] for page in reader.iter_pages("orgs", filter=unknown) for r in page.records]

    full = [r["sourcedId"] for page in reader.iter_pages("orgs") for r in page.records]
    assert first == second == full != []
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        "sis.oneroster cannot filter orgs (invalid_filter_field); reading it in full from now on"
    ]


def test_filter_values_are_quoted_and_url_encoded_end_to_end(url: str) -> None:
    reader = client(url, OAuth1Signer("sandbox", "sandbox"))
    [school, *_] = [r for page in reader.iter_pages("schools") for r in page.records]
    by_name = where("name", "=", school["name"])

    found = [
        r["sourcedId"] for page in reader.iter_pages("schools", filter=str(by_name)) for r in page.records
    ]

    assert found == [school["sourcedId"]]
    with pytest.raises(ValueError, match="single quote"):
        where("name", "=", "O'Brien Elementary")
