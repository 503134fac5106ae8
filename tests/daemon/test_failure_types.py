"""One ``FailureType`` for every layer, and a refused row that is counted and skipped while the rest go on.

The Ed-Fi refusals are real HTTP answers (pytest-httpserver speaking Problem Details as the ODS/API
does); the outbox runs against its real journal with a small write target whose one job is to refuse
one student's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from truancy.connector.edfi import EdFiClient, StaleEtagError
from truancy.connector.errors import (
    ConfigurationError,
    ConnectorError,
    FailureType,
    HttpStatusError,
    RowError,
    TransientError,
    failure_of,
)
from truancy.connector.http import HttpSession
from truancy.daemon.evaluate import Target
from truancy.daemon.outbox import Outbox, Plan
from truancy.daemon.pipeline import CycleSummary
from truancy.daemon.progress import SilentReporter
from truancy.daemon.schema import outbox
from truancy.daemon.store import create_store_engine, upgrade
from truancy.mappings.writes import DesiredWrite, WriteKind

RELATIONSHIP = {
    "type": "urn:ed-fi:api:security:authorization:relationships:access-denied:relationship",
    "title": "Authorization Denied",
    "status": 403,
    "detail": "Access to the requested data could not be authorized.",
    "errors": [
        "No relationships have been established between the caller's education organization id claims"
    ],
}


@pytest.fixture
def client(httpserver: HTTPServer) -> Iterator[EdFiClient]:
    session = HttpSession(httpserver.url_for("/data/v3/"), name="sis.edfi")
    yield EdFiClient(session, httpserver.url_for("/changeQueries/v1/"), paging="offset", use_snapshot=False)
    session.close()


def test_a_relationship_403_refuses_one_row_as_a_configuration_failure(
    httpserver: HTTPServer, client: EdFiClient
) -> None:
    httpserver.expect_request(
        "/data/v3/ed-fi/studentInterventionAssociations", method="POST"
    ).respond_with_json(RELATIONSHIP, status=403, content_type="application/problem+json")
    with pytest.raises(RowError) as refused:
        client.post(
            "ed-fi/studentInterventionAssociations", {"studentReference": {"studentUniqueId": "604822"}}
        )
    assert refused.value.failure is FailureType.CONFIGURATION
    assert "relationship" in refused.value.reason


def test_a_stale_etag_is_a_connector_error_that_refuses_one_row_for_now(
    httpserver: HTTPServer, client: EdFiClient
) -> None:
    httpserver.expect_request("/data/v3/ed-fi/interventions/abc", method="PUT").respond_with_json(
        {"type": "urn:ed-fi:api:optimistic-lock-failed", "status": 412}, status=412
    )
    with pytest.raises(StaleEtagError) as stale:
        client.put("ed-fi/interventions", "abc", {"x": 1}, '"1"')
    assert isinstance(stale.value, ConnectorError)
    assert failure_of(stale.value) is FailureType.TRANSIENT


def test_every_error_has_one_failure_type() -> None:
    assert failure_of(ConfigurationError("x")) is FailureType.CONFIGURATION
    assert failure_of(TransientError("x")) is FailureType.TRANSIENT
    assert failure_of(HttpStatusError("x", status=400)) is FailureType.DATA
    assert failure_of(KeyError("x")) is FailureType.INTERNAL


def test_a_cycle_reports_the_failure_a_person_must_act_on_first() -> None:
    refused = "data: 2 write(s) refused (HttpStatusError)"
    assert CycleSummary(cycle_id=1, errors=[refused]).failure is FailureType.DATA
    unassociated = "configuration: 1 write(s) refused (the API key has no relationship)"
    both = CycleSummary(cycle_id=1, errors=[refused, unassociated])
    assert both.failure is FailureType.CONFIGURATION
    assert CycleSummary(cycle_id=2).failure is None


class _RefusesOneStudent:
    """A write target that refuses every row of one student, as an ODS refuses a student outside the key."""

    name = "refusing"

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.created: list[str] = []

    def create(self, write: DesiredWrite, sis_ref: str) -> str:
        if sis_ref == self.refused:
            raise RowError(
                "sis.x: POST refused", reason="outside the key's schools", failure=FailureType.CONFIGURATION
            )
        self.created.append(write.sync_key)
        return str(len(self.created))


def _flag(student: str) -> Target:
    fields = {"flag_type": "truant", "label": "Truant", "status": "active", "since_date": "2025-10-01"}
    return Target(DesiredWrite.build(WriteKind.FLAG, student, "2025-26", "truant", fields), f"ref-{student}")


def test_a_refused_row_is_counted_and_skipped_while_the_other_rows_are_written(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    target = _RefusesOneStudent("ref-b")
    box = Outbox(engine, target, cycle_id=1, reporter=SilentReporter())  # type: ignore[arg-type]
    plan = Plan(creates=[_flag("a"), _flag("b"), _flag("c")])

    counts = box.apply(plan)

    assert (counts.created, counts.failed) == (2, 1)
    assert len(target.created) == 2
    assert dict(box.errors) == {(FailureType.CONFIGURATION, "outside the key's schools"): 1}
    with engine.connect() as connection:
        statuses = sorted(connection.execute(select(outbox.c.status)).scalars())
    assert statuses == ["done", "done", "failed"]
