"""One OneRoster collection read, shared by the 1.1 and 1.2 routers: query, page, quirks, envelope.

Also the relationship endpoints (``/schools/{id}/students``, ``/classes/{id}/enrollments``...), which
answer the child collection restricted to records that reference the parent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.quirks import Quirks, QuirkSettings, paging_headers, served_offset, shape_imsx
from truancy.sandbox.responses import imsx_status
from truancy.sandbox.roster import COLLECTION_ENVELOPE, Record
from truancy.sandbox.roster_query import QueryError, paging, project

if TYPE_CHECKING:
    from truancy.sandbox.oneroster_api import RosterCollections

Convert = Callable[[Record], Record]
USER_COLLECTIONS = frozenset({"users", "students", "teachers"})


def quirky_error(
    quirks: Quirks, status: int, code_minor: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = shape_imsx(quirks, imsx_status(code_minor, description))
    return JSONResponse(body, status_code=status, headers=headers)


def throttled(quirks: QuirkSettings) -> Response | None:
    """A 429 while a configured burst lasts, as providers answer a client that reads too fast."""
    if not quirks.take_throttle():
        return None
    return quirky_error(quirks.current, 429, "server_busy", "too many requests", {"Retry-After": "1"})


def _links(request: Request, total: int, limit: int, offset: int) -> str:
    def link(start: int, rel: str) -> str:
        return f'<{request.url.include_query_params(limit=limit, offset=start)}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = [link(0, "first")]
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    links.append(link(last, "last"))
    return ", ".join(links)


def serve_collection(
    roster: RosterCollections,
    collection: str,
    request: Request,
    quirks: Quirks,
    *,
    subset: Callable[[list[Record]], list[Record]] | None = None,
    convert: Convert | None = None,
) -> Response:
    """One page of ``collection`` (optionally narrowed by ``subset``) with paging headers."""
    if collection not in roster.records:
        return quirky_error(quirks, 404, "unknownobject", f"no collection named {collection!r}")
    params = dict(request.query_params)
    try:
        limit, offset = paging(params.get("limit"), params.get("offset"))
        records = roster.query(
            collection, params.get("filter", ""), params.get("sort", ""), params.get("orderBy", "asc")
        )
        if subset is not None:
            records = subset(records)
        start = served_offset(quirks, offset)
        page = records[start : start + limit]
        if convert is not None:
            page = [convert(record) for record in page]
        if params.get("fields"):
            page = project(page, params["fields"], roster.fields[collection])
    except QueryError as error:
        return quirky_error(quirks, 400, error.code_minor, str(error))
    headers = paging_headers(quirks, len(records), _links(request, len(records), limit, offset))
    return JSONResponse({COLLECTION_ENVELOPE.get(collection, collection): page}, headers=headers)


def _ref_id(value: Any) -> Any:
    return value.get("sourcedId") if isinstance(value, dict) else None


def _enrolled(roster: RosterCollections, key: str, match: str, wanted: str, role: str | None) -> set[str]:
    """Ids at ``wanted`` of enrollments whose ``key`` reference is ``match`` (and role, if given)."""
    return {
        str(_ref_id(enrollment[wanted]))
        for enrollment in roster.records["enrollments"]
        if _ref_id(enrollment[key]) == match and (role is None or enrollment["role"] == role)
    }


def relation(
    roster: RosterCollections, parent: str, parent_id: str, child: str
) -> Callable[[list[Record]], list[Record]] | None:
    """The filter for ``/{parent}/{parent_id}/{child}``, or None when that endpoint does not exist."""

    def where(test: Callable[[Record], bool]) -> Callable[[list[Record]], list[Record]]:
        return lambda records: [record for record in records if test(record)]

    if parent == "schools" and child in USER_COLLECTIONS:
        return where(lambda user: any(_ref_id(role.get("org")) == parent_id for role in user["roles"]))
    if parent == "schools" and child in ("classes", "enrollments"):
        return where(lambda record: _ref_id(record.get("school")) == parent_id)
    if parent == "schools" and child == "courses":
        return where(lambda course: _ref_id(course.get("org")) == parent_id)
    if parent == "classes" and child == "enrollments":
        return where(lambda enrollment: _ref_id(enrollment.get("class")) == parent_id)
    if parent == "classes" and child in ("students", "teachers"):
        users = _enrolled(roster, "class", parent_id, "user", child.removesuffix("s"))
        return where(lambda user: user["sourcedId"] in users)
    if parent in USER_COLLECTIONS and child == "classes":
        classes = _enrolled(roster, "user", parent_id, "class", None)
        return where(lambda record: record["sourcedId"] in classes)
    if parent == "courses" and child == "classes":
        return where(lambda record: _ref_id(record.get("course")) == parent_id)
    if parent == "terms" and child == "classes":
        return where(lambda record: any(_ref_id(term) == parent_id for term in record.get("terms", [])))
    return None


def serve_related(
    roster: RosterCollections,
    parent: str,
    parent_id: str,
    child: str,
    request: Request,
    quirks: Quirks,
    *,
    convert: Convert | None = None,
) -> Response:
    subset = relation(roster, parent, parent_id, child)
    if subset is None:
        return quirky_error(quirks, 404, "unknownobject", f"no endpoint /{parent}/{{id}}/{child}")
    if parent_id not in roster.by_id.get(parent, {}):
        return quirky_error(quirks, 404, "unknownobject", f"no {parent} record with that sourcedId")
    return serve_collection(roster, child, request, quirks, subset=subset, convert=convert)
