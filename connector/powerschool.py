"""PowerSchool's PowerQuery and database-extension table APIs.

PowerQueries are POSTed but only read, so they are sent as idempotent and retried like a GET.
Extension-table rows come back wrapped as ``{"tables": {table: {...}}}`` with every value a string;
this module unwraps them into flat ``TableRow`` dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import requests

from truancy.connector.error_summary import summarise_error
from truancy.connector.errors import HttpStatusError, ProtocolError
from truancy.connector.http import HttpSession
from truancy.connector.oauth2 import ClientCredentials
from truancy.connector.redaction import path_template, scrub_server_text

TableRow = dict[str, str]

_COLUMN = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_TABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_QUERY = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_.:@+-]+$")


def powerschool_auth(
    base_url: str, client_id: str, client_secret: str, *, verify: bool | str = True, name: str = "powerschool"
) -> ClientCredentials:
    """Client credentials against PowerSchool's token endpoint, ``POST /oauth/access_token``.

    ``name`` is the settings section the credentials came from, which the errors tell the admin to check.
    """
    return ClientCredentials(
        f"{base_url.rstrip('/')}/oauth/access_token",
        client_id,
        client_secret,
        verify=verify,
        name=name,
    )


def fiql_eq(column: str, value: str) -> str:
    """``column==value`` for a ``q`` filter; values with FIQL operators or spaces are double-quoted.

    Quoting keeps ``;`` (AND), ``,`` and ``*`` (wildcard) inside a value from changing the query.
    """
    if not _COLUMN.match(column):
        raise ValueError("column must be a plain PowerSchool column name")
    if _BARE_VALUE.match(value):
        return f"{column}=={value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{column}=="{escaped}"'


def _table(table: str) -> str:
    """The table's path segment; a name that is not a plain identifier would change the URL."""
    if not _TABLE.match(table):
        raise ValueError("table must be a plain PowerSchool table name such as U_TRUANCY_FLAGS")
    return table.lower()


def _query(name: str) -> str:
    if not _QUERY.match(name):
        raise ValueError("query name must be dotted identifiers such as com.vendor.product.area.name")
    return name


def _as_text(value: Any, endpoint: str) -> str:
    """PowerSchool sends strings; numbers are tolerated, null is an empty column, nesting is not."""
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise ProtocolError(f"PowerSchool {endpoint}: a column holds a nested or boolean value")
    return str(value)


def _json_object(response: requests.Response) -> dict[str, Any]:
    endpoint = path_template(response.url)
    try:
        payload = response.json()
    except ValueError:
        raise ProtocolError(f"PowerSchool {endpoint}: response is not JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError(f"PowerSchool {endpoint}: response is not a JSON object")
    return payload


def _record_list(payload: Mapping[str, Any], endpoint: str) -> list[Any]:
    """``record`` is absent on some servers when a page is empty."""
    records = payload.get("record", [])
    if not isinstance(records, list):
        raise ProtocolError(f"PowerSchool {endpoint}: 'record' is not an array")
    return records


class PowerSchoolClient:
    """PowerQueries and extension-table CRUD on one PowerSchool server (session base = server root)."""

    def __init__(self, session: HttpSession, *, page_size: int = 500) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.session = session
        self.page_size = page_size

    # -- PowerQueries --------------------------------------------------------------------------

    def iter_query(self, name: str, args: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, str]]]:
        """Yield the non-empty pages of a flattened PowerQuery until a short or empty page."""
        page = 1
        while True:
            response = self.session.post(
                f"ws/schema/query/{_query(name)}",
                params={"page": page, "pagesize": self.page_size},
                json=dict(args or {}),
                idempotent=True,
            )
            endpoint = path_template(response.url)
            records = _record_list(_json_object(response), endpoint)
            rows = [self._flat_row(record, endpoint) for record in records]
            if rows:
                yield rows
            if len(rows) < self.page_size:
                return
            page += 1

    def count_query(self, name: str, args: Mapping[str, Any] | None = None) -> int:
        response = self.session.post(
            f"ws/schema/query/{_query(name)}/count", json=dict(args or {}), idempotent=True
        )
        return self._count(response)

    @staticmethod
    def _flat_row(record: Any, endpoint: str) -> dict[str, str]:
        if not isinstance(record, dict):
            raise ProtocolError(f"PowerSchool {endpoint}: a record is not a JSON object")
        return {str(key): _as_text(value, endpoint) for key, value in record.items()}

    @staticmethod
    def _count(response: requests.Response) -> int:
        count = _json_object(response).get("count")
        if isinstance(count, bool) or not isinstance(count, int | str) or not str(count).isdigit():
            raise ProtocolError(f"PowerSchool {path_template(response.url)}: 'count' is not a whole number")
        return int(count)

    # -- extension tables ----------------------------------------------------------------------

    def iter_table(
        self, table: str, *, q: str | None = None, projection: str = "*"
    ) -> Iterator[list[TableRow]]:
        """Yield the non-empty pages of an extension table's rows, optionally filtered by ``q``."""
        params: dict[str, str | int] = {"projection": projection, "pagesize": self.page_size}
        if q:
            params["q"] = q
        page = 1
        while True:
            response = self.session.get(f"ws/schema/table/{_table(table)}", params={**params, "page": page})
            endpoint = path_template(response.url)
            records = _record_list(_json_object(response), endpoint)
            rows = [self._table_row(record, table, endpoint) for record in records]
            if rows:
                yield rows
            if len(rows) < self.page_size:
                return
            page += 1

    def get_row(self, table: str, id: int | str) -> TableRow | None:
        """The row with this id, or None when it does not exist."""
        response = self.session.get(
            f"ws/schema/table/{_table(table)}/{id}", params={"projection": "*"}, expected=(200, 404)
        )
        if response.status_code == 404:
            return None
        return self._table_row(_json_object(response), table, path_template(response.url))

    def insert_row(self, table: str, columns: Mapping[str, str]) -> int:
        """Insert a row and return the id PowerSchool gave it."""
        response = self.session.post(f"ws/schema/table/{_table(table)}", json=self._body(table, columns))
        result = self._result(response, "INSERT")
        message = result.get("success_message")
        row_id = message.get("id") if isinstance(message, Mapping) else None
        if isinstance(row_id, bool) or not isinstance(row_id, int | str) or not str(row_id).isdigit():
            raise ProtocolError(
                f"PowerSchool {path_template(response.url)}: INSERT succeeded without a row id"
            )
        return int(row_id)

    def update_row(self, table: str, id: int | str, columns: Mapping[str, str]) -> None:
        response = self.session.put(f"ws/schema/table/{_table(table)}/{id}", json=self._body(table, columns))
        self._result(response, "UPDATE")

    def delete_row(self, table: str, id: int | str) -> None:
        """Delete a row; one that is already gone counts as deleted (a retried delete is harmless)."""
        self.session.delete(f"ws/schema/table/{_table(table)}/{id}", expected=(200, 204, 404))

    @staticmethod
    def _body(table: str, columns: Mapping[str, str]) -> dict[str, Any]:
        return {"tables": {table.lower(): dict(columns)}}

    @staticmethod
    def _table_row(record: Any, table: str, endpoint: str) -> TableRow:
        """Unwrap ``{"id": 7, "tables": {"u_table": {...}}}``; ``id`` is always in the row."""
        if not isinstance(record, dict):
            raise ProtocolError(f"PowerSchool {endpoint}: a record is not a JSON object")
        tables = record.get("tables")
        if not isinstance(tables, dict):
            raise ProtocolError(f"PowerSchool {endpoint}: a record has no 'tables' object")
        columns = tables.get(table.lower())
        if columns is None and len(tables) == 1:
            columns = next(iter(tables.values()))
        if not isinstance(columns, dict):
            raise ProtocolError(f"PowerSchool {endpoint}: a record does not hold the requested table")
        row = {str(key).lower(): _as_text(value, endpoint) for key, value in columns.items()}
        if not row.get("id"):
            if record.get("id") is None:
                raise ProtocolError(f"PowerSchool {endpoint}: a record has no id")
            row["id"] = _as_text(record["id"], endpoint)
        return row

    @staticmethod
    def _result(response: requests.Response, action: str) -> Mapping[str, Any]:
        """The ``result`` of a write; PowerSchool may answer 200 with a status other than SUCCESS.

        An UPDATE answered with an empty body (204) has nothing to report and succeeded.
        """
        endpoint = path_template(response.url)
        if action == "UPDATE" and not response.content:
            return {}
        result = _json_object(response).get("result")
        if not isinstance(result, Mapping):
            raise ProtocolError(f"PowerSchool {endpoint}: {action} answered without a 'result' object")
        status = str(result.get("status", ""))
        if status.upper() != "SUCCESS":
            summary = _write_error_summary(result) or summarise_error(response)
            raise HttpStatusError(
                f"PowerSchool {endpoint}: {action} was not applied (status {status or 'missing'}"
                f"{': ' + summary if summary else ''})",
                status=response.status_code,
                summary=summary,
            )
        return result


def _write_error_summary(result: Mapping[str, Any]) -> str | None:
    """PowerSchool reports a refused write as ``error_message: {"error_description": ...}``."""
    error = result.get("error_message")
    if isinstance(error, Mapping):
        for key in ("error_description", "description", "message", "error"):
            if isinstance(error.get(key), str):
                return scrub_server_text(str(error[key]))
    if isinstance(error, str):
        return scrub_server_text(error)
    return None
