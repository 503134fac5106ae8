"""The bundle and the sandbox SIS agree: same PowerQueries with the same output columns, same U_ columns.

The sandbox is an independent implementation of PowerSchool's side, so this compares two sources
that could drift, over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.plugins.powerschool.build import (
    ExtensionTable,
    NamedQuery,
    read_extension_tables,
    read_named_queries,
)

sandbox_server = pytest.importorskip("truancy.sandbox.server")

ROW_AUDIT_COLUMNS = {"id", "whencreated", "whenmodified", "whocreated", "whomodified"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, requests.Session]]:
    """A sandbox of our own: the table checks write rows, which the shared session sandbox must not see."""
    with (
        sandbox_server.SandboxServer(students=40, seed=7, as_of=PINNED_AS_OF) as server,
        requests.Session() as session,
    ):
        token = session.post(
            f"{server.url}/oauth/access_token",
            auth=("sandbox", "sandbox"),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        token.raise_for_status()
        session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield server.url, session


@pytest.mark.parametrize("query", read_named_queries(), ids=lambda query: query.name)
def test_sandbox_serves_each_query_with_the_bundle_columns(
    sandbox: tuple[str, requests.Session], query: NamedQuery
) -> None:
    url, session = sandbox
    response = session.post(
        f"{url}/ws/schema/query/{query.name}", params={"pagesize": 5}, json={}, timeout=10
    )
    assert response.status_code == 200
    records = response.json()["record"]
    assert records, f"the sandbox returned no rows for {query.name}"
    expected = {column.output for column in query.columns}
    assert all(set(record) == expected for record in records)


@pytest.mark.parametrize("table", read_extension_tables(), ids=lambda table: table.name)
def test_sandbox_table_accepts_and_returns_exactly_the_declared_columns(
    sandbox: tuple[str, requests.Session],
    table: ExtensionTable,
) -> None:
    url, session = sandbox
    name = table.name.lower()
    columns = {column.lower(): "x" for column in table.column_names}
    if table.parent_key:  # a child of STUDENTS names an existing student; a standalone table has none
        columns[table.parent_key.lower()] = "10001"
    inserted = session.post(f"{url}/ws/schema/table/{name}", json={"tables": {name: columns}}, timeout=10)
    assert inserted.status_code == 200, inserted.text
    row_id = inserted.json()["result"]["success_message"]["id"]
    row = session.get(f"{url}/ws/schema/table/{name}/{row_id}", params={"projection": "*"}, timeout=10)
    assert row.status_code == 200
    assert set(row.json()["tables"][name]) - ROW_AUDIT_COLUMNS == set(columns)
