"""PowerSchool PowerQuery paging and extension-table CRUD against a loopback server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from truancy.connector.errors import HttpStatusError, ProtocolError, TransientError
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.powerschool import PowerSchoolClient, fiql_eq, powerschool_auth

QUERY = "com.truancysync.attendance.daily.records"
TABLE = "/ws/schema/table/u_truancy_flags"
ROWS = [{"dcid": str(index), "att_code": "A", "minutes": None} for index in range(5)]


def client(httpserver: HTTPServer, page_size: int = 2) -> PowerSchoolClient:
    sleeps: list[float] = []
    session = HttpSession(httpserver.url_for("/"), retry=RetryPolicy(max_attempts=3, sleep=sleeps.append))
    return PowerSchoolClient(session, page_size=page_size)


def paged_query(request: Request) -> Response:
    page, size = int(request.args["page"]), int(request.args["pagesize"])
    body: dict[str, Any] = {"name": QUERY}
    chunk = ROWS[(page - 1) * size : page * size]
    if chunk:
        body["record"] = chunk
    return Response(json.dumps(body), content_type="application/json")


def test_given_a_query_when_iterating_then_pages_until_a_short_page_with_args_sent(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"/ws/schema/query/{QUERY}", method="POST").respond_with_handler(paged_query)

    pages = list(client(httpserver).iter_query(QUERY, {"modified_since": "2025-09-01T00:00:00"}))

    assert [[row["dcid"] for row in page] for page in pages] == [["0", "1"], ["2", "3"], ["4"]]
    assert pages[0][0]["minutes"] == ""
    assert [entry[0].args["page"] for entry in httpserver.log] == ["1", "2", "3"]
    assert all(entry[0].get_json() == {"modified_since": "2025-09-01T00:00:00"} for entry in httpserver.log)


def test_given_an_exact_multiple_when_iterating_then_stops_on_a_page_without_record(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"/ws/schema/query/{QUERY}", method="POST").respond_with_handler(paged_query)

    pages = list(client(httpserver, page_size=5).iter_query(QUERY))

    assert [len(page) for page in pages] == [5]
    assert len(httpserver.log) == 2


def test_given_a_500_on_a_powerquery_when_iterating_then_retried_because_it_only_reads(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_ordered_request(f"/ws/schema/query/{QUERY}").respond_with_data("", status=500)
    httpserver.expect_ordered_request(f"/ws/schema/query/{QUERY}").respond_with_json({"record": []})

    assert list(client(httpserver).iter_query(QUERY)) == []


def test_count_query(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/ws/schema/query/{QUERY}/count", method="POST").respond_with_json(
        {"count": 1234}
    )

    assert client(httpserver).count_query(QUERY, {"start_date": "2025-08-18"}) == 1234


def test_given_an_unknown_query_when_iterating_then_status_error_with_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ws/schema/query/com.x.y.z.w").respond_with_json(
        {"message": "Query not found"}, status=404
    )

    with pytest.raises(HttpStatusError, match="Query not found"):
        list(client(httpserver).iter_query("com.x.y.z.w"))


def _wrapped(row_id: int, **columns: str) -> dict[str, Any]:
    return {
        "id": row_id,
        "name": "u_truancy_flags",
        "tables": {"u_truancy_flags": {"id": str(row_id), **columns}},
    }


def test_given_table_rows_when_iterating_then_unwrapped_with_id_and_q_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(TABLE, method="GET").respond_with_json(
        {
            "name": "u_truancy_flags",
            "record": [_wrapped(1, studentsdcid="10001"), _wrapped(2, studentsdcid="10002")],
        }
    )
    httpserver.expect_ordered_request(TABLE, method="GET").respond_with_json(
        {"name": "u_truancy_flags", "record": []}
    )

    pages = list(client(httpserver).iter_table("U_TRUANCY_FLAGS", q=fiql_eq("status", "open")))

    assert pages == [[{"id": "1", "studentsdcid": "10001"}, {"id": "2", "studentsdcid": "10002"}]]
    first = httpserver.log[0][0]
    assert first.args["q"] == "status==open"
    assert first.args["projection"] == "*"


def test_given_a_row_when_inserted_updated_read_and_deleted_then_bodies_and_ids_match(
    httpserver: HTTPServer,
) -> None:
    success = {
        "result": {
            "client_uid": None,
            "status": "SUCCESS",
            "action": "INSERT",
            "success_message": {"id": 7, "ref": "x"},
        }
    }
    httpserver.expect_request(TABLE, method="POST").respond_with_json(success)
    httpserver.expect_request(f"{TABLE}/7", method="PUT").respond_with_json(
        {"result": {"status": "SUCCESS", "action": "UPDATE", "success_message": {"id": 7}}}
    )
    httpserver.expect_request(f"{TABLE}/7", method="GET").respond_with_json(_wrapped(7, status="closed"))
    httpserver.expect_request(f"{TABLE}/7", method="DELETE").respond_with_data("", status=204)
    httpserver.expect_request(f"{TABLE}/8", method="DELETE").respond_with_json(
        {"message": "not found"}, status=404
    )
    httpserver.expect_request(f"{TABLE}/8", method="GET").respond_with_json(
        {"message": "not found"}, status=404
    )
    ps = client(httpserver)

    assert ps.insert_row("U_TRUANCY_FLAGS", {"studentsdcid": "10001", "status": "open"}) == 7
    ps.update_row("U_TRUANCY_FLAGS", "7", {"status": "closed"})
    assert ps.get_row("U_TRUANCY_FLAGS", 7) == {"id": "7", "status": "closed"}
    ps.delete_row("U_TRUANCY_FLAGS", 7)
    ps.delete_row("U_TRUANCY_FLAGS", 8)
    assert ps.get_row("U_TRUANCY_FLAGS", 8) is None

    assert httpserver.log[0][0].get_json() == {
        "tables": {"u_truancy_flags": {"studentsdcid": "10001", "status": "open"}}
    }
    assert httpserver.log[1][0].get_json() == {"tables": {"u_truancy_flags": {"status": "closed"}}}


def test_given_a_write_answered_with_error_status_when_inserting_then_status_error_without_values(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(TABLE, method="POST").respond_with_json(
        {
            "result": {
                "status": "ERROR",
                "action": "INSERT",
                "error_message": {"error_description": "studentsdcid 10001 does not exist"},
            }
        }
    )

    with pytest.raises(HttpStatusError, match="INSERT was not applied") as caught:
        client(httpserver).insert_row("u_truancy_flags", {"studentsdcid": "10001"})

    assert "10001" not in str(caught.value)


def test_given_an_insert_without_id_when_inserting_then_protocol_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(TABLE, method="POST").respond_with_json({"result": {"status": "SUCCESS"}})

    with pytest.raises(ProtocolError, match="without a row id"):
        client(httpserver).insert_row("u_truancy_flags", {"status": "open"})


def test_given_a_500_on_insert_when_inserting_then_not_repeated(httpserver: HTTPServer) -> None:
    httpserver.expect_request(TABLE, method="POST").respond_with_data("", status=500)

    with pytest.raises(TransientError, match="not repeated"):
        client(httpserver).insert_row("u_truancy_flags", {"status": "open"})

    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("open", "status==open"),
        ("flag:ca-truant:10001", "status==flag:ca-truant:10001"),
        ("a;b", 'status=="a;b"'),
        ('say "hi", *now*', 'status=="say \\"hi\\", *now*"'),
        ("back\\slash", 'status=="back\\\\slash"'),
    ],
)
def test_fiql_eq_quotes_values_that_could_change_the_query(value: str, expected: str) -> None:
    assert fiql_eq("status", value) == expected


def test_fiql_eq_refuses_a_column_that_is_not_a_name() -> None:
    with pytest.raises(ValueError, match="column"):
        fiql_eq("status;id=gt=0", "x")


def test_powerschool_auth_targets_the_access_token_endpoint() -> None:
    auth = powerschool_auth("https://ps.example.org/", "id", "secret")

    assert auth.token_url == "https://ps.example.org/oauth/access_token"


@pytest.mark.parametrize("table", ["u_flags/../students", "u flags", ""])
def test_given_a_table_name_that_is_not_an_identifier_when_used_then_refused(table: str) -> None:
    ps = PowerSchoolClient(HttpSession("http://127.0.0.1:9"))

    with pytest.raises(ValueError, match="table"):
        ps.get_row(table, 1)
