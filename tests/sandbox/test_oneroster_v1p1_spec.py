"""The sandbox's OneRoster 1.1 responses have the 1.1 shape, and the connector parses every record.

There is no 1.1 OpenAPI file among the official specs, so the 1.1 envelopes are written out here
from the 1.1 information model as ``docs/standards.md`` §1 summarises it: a user has one ``role`` and
an ``orgs`` list (no ``roles[]``, no ``primaryOrg``), ``enabledUser`` is the string "true" or "false",
``status`` is ``active`` or ``tobedeleted``, ``grades`` is a list, and references point at 1.1 paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests

from tests.sandbox.helpers import TIMEOUT
from truancy.connector.http import HttpSession
from truancy.connector.oauth1 import OAuth1Signer
from truancy.connector.oneroster import (
    OneRosterAcademicSession,
    OneRosterClass,
    OneRosterClient,
    OneRosterEnrollment,
    OneRosterOrg,
    OneRosterRecord,
    OneRosterUser,
    parse_records,
)

pytestmark = pytest.mark.spec

V1P1 = "/ims/oneroster/v1p1"
ROLES = ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"]


def _ref(*types: str) -> dict[str, Any]:
    """A 1.1 GUIDRef to one of ``types``, whose href is a 1.1 path."""
    return {
        "type": "object",
        "required": ["href", "sourcedId", "type"],
        "properties": {
            "href": {"type": "string", "pattern": f"^{V1P1}/"},
            "sourcedId": {"type": "string", "minLength": 1},
            "type": {"enum": list(types)},
        },
    }


def _record(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A 1.1 object: the base fields every record carries, plus its own."""
    return {
        "type": "object",
        "required": ["sourcedId", "status", "dateLastModified", *required],
        "properties": {
            "sourcedId": {"type": "string", "minLength": 1},
            "status": {"enum": ["active", "tobedeleted"]},
            "dateLastModified": {"type": "string", "format": "date-time"},
            "metadata": {"type": "object"},
            **properties,
        },
    }


_DATE = {"type": "string", "format": "date"}
_GRADES = {"type": "array", "items": {"type": "string", "minLength": 1}}

USER = _record(
    ["username", "enabledUser", "givenName", "familyName", "role", "orgs"],
    {
        "username": {"type": "string"},
        "enabledUser": {"enum": ["true", "false"]},
        "givenName": {"type": "string"},
        "familyName": {"type": "string"},
        "identifier": {"type": "string"},
        "userIds": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "identifier"],
                "properties": {"type": {"type": "string"}, "identifier": {"type": "string"}},
            },
        },
        "role": {"enum": ROLES},
        "orgs": {"type": "array", "minItems": 1, "items": _ref("org")},
        "grades": _GRADES,
        "roles": False,
        "primaryOrg": False,
    },
)
ENROLLMENT = _record(
    ["user", "class", "school", "role"],
    {
        "user": _ref("user", "student", "teacher"),
        "class": _ref("class"),
        "school": _ref("org"),
        "role": {"enum": ROLES},
        "primary": {"type": "boolean"},
        "beginDate": _DATE,
        "endDate": _DATE,
    },
)
ORG = _record(
    ["name", "type"],
    {
        "name": {"type": "string"},
        "type": {"enum": ["department", "school", "district", "local", "state", "national"]},
        "identifier": {"type": "string"},
        "parent": _ref("org"),
        "children": {"type": "array", "items": _ref("org")},
    },
)
CLASS = _record(
    ["title", "course", "school", "terms"],
    {
        "title": {"type": "string"},
        "classCode": {"type": "string"},
        "classType": {"enum": ["homeroom", "scheduled"]},
        "grades": _GRADES,
        "course": _ref("course"),
        "school": _ref("org"),
        "terms": {"type": "array", "minItems": 1, "items": _ref("academicSession", "term")},
    },
)
ACADEMIC_SESSION = _record(
    ["title", "startDate", "endDate", "type", "schoolYear"],
    {
        "title": {"type": "string"},
        "startDate": _DATE,
        "endDate": _DATE,
        "type": {"enum": ["gradingPeriod", "semester", "schoolYear", "term"]},
        "schoolYear": {"type": "string", "pattern": r"^\d{4}$"},
        "parent": _ref("academicSession"),
        "children": {"type": "array", "items": _ref("academicSession")},
    },
)

# collection -> (envelope key, record schema, connector model)
COLLECTIONS: dict[str, tuple[str, dict[str, Any], type[OneRosterRecord]]] = {
    "users": ("users", USER, OneRosterUser),
    "students": ("users", USER, OneRosterUser),
    "teachers": ("users", USER, OneRosterUser),
    "enrollments": ("enrollments", ENROLLMENT, OneRosterEnrollment),
    "orgs": ("orgs", ORG, OneRosterOrg),
    "schools": ("orgs", ORG, OneRosterOrg),
    "classes": ("classes", CLASS, OneRosterClass),
    "academicSessions": ("academicSessions", ACADEMIC_SESSION, OneRosterAcademicSession),
    "terms": ("academicSessions", ACADEMIC_SESSION, OneRosterAcademicSession),
}
SINGLE_READS = {
    "users": ("user", "stu-10001", USER),
    "enrollments": ("enrollment", "enr-10001-hr", ENROLLMENT),
    "orgs": ("org", "district-1", ORG),
    "classes": ("class", "class-100-KG-hr", CLASS),
    "academicSessions": ("academicSession", "as-2025-26", ACADEMIC_SESSION),
}


def _envelope(key: str, item: dict[str, Any], *, collection: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {key: {"type": "array", "items": item} if collection else item},
    }


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _signed() -> OAuth1Signer:
    return OAuth1Signer("sandbox", "sandbox")


def _raw_pages(sandbox_url: str, collection: str) -> Iterator[requests.Response]:
    """Every page of a 1.1 collection as served, following the ``next`` links."""
    url: str | None = f"{sandbox_url}{V1P1}/{collection}?limit=1000"
    while url is not None:
        response = requests.get(url, auth=_signed(), timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        yield response
        url = response.links.get("next", {}).get("url")


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_collection_pages_have_the_v1p1_shape(sandbox_url: str, collection: str) -> None:
    key, record, _model = COLLECTIONS[collection]
    validator = _validator(_envelope(key, record, collection=True))
    served = 0
    for response in _raw_pages(sandbox_url, collection):
        payload = response.json()
        validator.validate(payload)
        served += len(payload[key])
    assert served > 0


@pytest.mark.parametrize(("collection", "single"), SINGLE_READS.items())
def test_single_reads_have_the_v1p1_shape(
    sandbox_url: str, collection: str, single: tuple[str, str, dict[str, Any]]
) -> None:
    key, sourced_id, record = single
    response = requests.get(f"{sandbox_url}{V1P1}/{collection}/{sourced_id}", auth=_signed(), timeout=TIMEOUT)
    assert response.status_code == 200
    _validator(_envelope(key, record, collection=False)).validate(response.json())


def test_a_v1p2_user_would_fail_the_v1p1_shape(sandbox_url: str) -> None:
    """Guards the schemas themselves: the 1.2 shape of the same user must be refused."""
    response = requests.get(f"{sandbox_url}{V1P1}/users/stu-10001", auth=_signed(), timeout=TIMEOUT)
    user = response.json()["user"]
    v1p2_user = {
        **{key: value for key, value in user.items() if key not in ("role", "orgs")},
        "roles": [{"roleType": "primary", "role": user["role"], "org": user["orgs"][0]}],
    }
    validator = _validator(_envelope("user", USER, collection=False))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"user": v1p2_user})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"user": {**user, "enabledUser": True}})


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_v1p1_record_parses_with_the_connector(sandbox_url: str, collection: str) -> None:
    key, _record_schema, model = COLLECTIONS[collection]
    served = sum(len(response.json()[key]) for response in _raw_pages(sandbox_url, collection))
    client = OneRosterClient(HttpSession(f"{sandbox_url}{V1P1}", auth=_signed()), page_size=1000)
    parsed = 0
    for page in client.iter_pages(collection):
        accepted, rejected = parse_records(model, page.records)
        assert rejected == []
        parsed += len(accepted)
        for typed, raw in zip(accepted, page.records, strict=True):
            if isinstance(typed, OneRosterUser):
                assert typed.has_role(raw["role"])
                assert typed.org_sourced_ids == tuple(org["sourcedId"] for org in raw["orgs"])
                assert typed.enabled_user is (raw["enabledUser"] == "true")
    assert parsed == served
