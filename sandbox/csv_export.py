"""The served roster as a OneRoster 1.1 or 1.2 CSV package (a zip), bulk or delta.

Follows the CSV bindings: ``manifest.csv`` says per file ``bulk``, ``delta`` or ``absent``; bulk rows
leave ``status`` and ``dateLastModified`` blank, delta rows carry both and only records changed
since the given instant. 1.2 moves a user's roles into ``roles.csv``. Lists are comma-separated in
one field and ``userIds`` are written ``{type:identifier}``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from truancy.sandbox.roster import Record

CSV_VERSIONS = ("1.1", "1.2")

_COMMON = ["sourcedId", "status", "dateLastModified"]
_HEADERS: dict[str, dict[str, list[str]]] = {
    "1.1": {
        "orgs": [*_COMMON, "name", "type", "identifier", "parentSourcedId"],
        "academicSessions": [
            *_COMMON,
            "title",
            "type",
            "startDate",
            "endDate",
            "parentSourcedId",
            "schoolYear",
        ],
        "courses": [
            *_COMMON,
            "schoolYearSourcedId",
            "title",
            "courseCode",
            "grades",
            "orgSourcedId",
            "subjects",
            "subjectCodes",
        ],
        "classes": [
            *_COMMON,
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
        ],
        "users": [
            *_COMMON,
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
        ],
        "enrollments": [
            *_COMMON,
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ],
    }
}
_HEADERS["1.2"] = {
    **_HEADERS["1.1"],
    "users": [
        *_COMMON,
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ],
    "roles": [
        *_COMMON,
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ],
}
_ABSENT = {
    "1.1": (
        "categories",
        "classResources",
        "courseResources",
        "demographics",
        "lineItems",
        "resources",
        "results",
    ),
    "1.2": (
        "categories",
        "classResources",
        "courseResources",
        "demographics",
        "lineItems",
        "resources",
        "results",
        "userProfiles",
    ),
}
# CSV column → the JSON reference it is read from.
_REFERENCES = {
    "parentSourcedId": "parent",
    "schoolYearSourcedId": "schoolYear",
    "orgSourcedId": "org",
    "courseSourcedId": "course",
    "schoolSourcedId": "school",
    "classSourcedId": "class",
    "userSourcedId": "user",
    "primaryOrgSourcedId": "primaryOrg",
}


def _ref(value: Any) -> str:
    return str(value.get("sourcedId", "")) if isinstance(value, Mapping) else ""


def _cell(record: Record, column: str) -> str:
    if column in _REFERENCES:
        return _ref(record.get(_REFERENCES[column]))
    if column == "termSourcedIds":
        return ",".join(_ref(term) for term in record.get("terms", []))
    if column == "orgSourcedIds":
        return ",".join(_ref(org) for org in record.get("orgs", []))
    if column == "userIds":
        return ",".join(f"{{{entry['type']}:{entry['identifier']}}}" for entry in record.get("userIds", []))
    value = record.get(column)
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _v1p1_user(user: Record) -> Record:
    roles = sorted(user["roles"], key=lambda role: role.get("roleType") != "primary")
    return {**user, "role": roles[0]["role"], "orgs": [role["org"] for role in roles]}


def _role_rows(user: Record) -> Iterator[Record]:
    for number, role in enumerate(user["roles"], start=1):
        yield {
            "sourcedId": f"{user['sourcedId']}-role-{number}",
            "status": user["status"],
            "dateLastModified": user["dateLastModified"],
            "user": {"sourcedId": user["sourcedId"]},
            "roleType": role["roleType"],
            "role": role["role"],
            "org": role["org"],
        }


def _rows(collections: Mapping[str, list[Record]], version: str, name: str) -> Iterator[Record]:
    if name == "roles":
        for user in collections["users"]:
            yield from _role_rows(user)
    elif name == "users" and version == "1.1":
        yield from (_v1p1_user(user) for user in collections["users"])
    else:
        yield from collections[name]


def _changed_since(since: datetime | None) -> Callable[[Record], bool]:
    if since is None:
        return lambda record: True
    cutoff = since if since.tzinfo else since.replace(tzinfo=UTC)

    def changed(record: Record) -> bool:
        modified = datetime.fromisoformat(str(record["dateLastModified"]).replace("Z", "+00:00"))
        return modified > cutoff

    return changed


def _table(header: list[str], rows: Iterator[Record], *, bulk: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = [_cell(row, column) for column in header]
        if bulk:
            cells[1] = cells[2] = ""
        writer.writerow(cells)
    return out.getvalue()


def export_package(
    collections: Mapping[str, list[Record]], version: str, *, since: datetime | None = None
) -> bytes:
    """A zip of ``manifest.csv`` and one CSV per rostering file; delta when ``since`` is given."""
    if version not in CSV_VERSIONS:
        raise ValueError(f"version must be one of {', '.join(CSV_VERSIONS)}")
    mode = "bulk" if since is None else "delta"
    changed = _changed_since(since)
    manifest = [("manifest.version", "1.0"), ("oneroster.version", version)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, header in _HEADERS[version].items():
            rows = (row for row in _rows(collections, version, name) if changed(row))
            package.writestr(f"{name}.csv", _table(header, rows, bulk=since is None))
            manifest.append((f"file.{name}", mode))
        manifest.extend((f"file.{name}", "absent") for name in _ABSENT[version])
        manifest.extend([("source.systemName", "truancy-sync sandbox"), ("source.systemCode", "sandbox")])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["propertyName", "value"])
        writer.writerows(manifest)
        package.writestr("manifest.csv", out.getvalue())
    return buffer.getvalue()
