"""Typed OneRoster 1.1/1.2 records, with only the fields a roster sync needs.

Names, birth dates and demographics are deliberately not modelled: the sync never needs them, and
what is not parsed cannot leak. A record that fails validation is quarantined as a ``Rejected`` whose
reason names fields and rules, never values, and the rest of the page goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DELETED_STATUSES = frozenset({"tobedeleted", "inactive"})
KNOWN_STATUSES = DELETED_STATUSES | {"active"}


def _ref_sourced_id(value: Any) -> Any:
    """A GUIDRef ``{"href","sourcedId","type"}`` reduced to its sourcedId; other values pass through."""
    if isinstance(value, Mapping):
        return value.get("sourcedId")
    return value


class OneRosterRecord(BaseModel):
    """Fields every OneRoster object carries; ``is_deleted`` covers 1.1's legacy ``inactive``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    sourced_id: str = Field(alias="sourcedId", min_length=1)
    status: str
    date_last_modified: datetime = Field(alias="dateLastModified")

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        """The spec says a missing value is left out, but providers send null (Ed-Fi's OneRoster
        service sends ``"grades": null``, ``"userIds": null``): treat the two alike."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in KNOWN_STATUSES:
            raise ValueError("status must be active, tobedeleted or inactive")
        return value.strip().lower()

    @field_validator("date_last_modified")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        """Providers omit the zone now and then; OneRoster timestamps are UTC by definition."""
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def is_deleted(self) -> bool:
        return self.status in DELETED_STATUSES


class UserRole(BaseModel):
    """One (role, org) pair of a user; 1.1's single ``role`` + ``orgs`` are expanded into these."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    role: str
    role_type: str = Field(default="primary", alias="roleType")
    org_sourced_id: str | None = Field(default=None, alias="org")

    _org_ref = field_validator("org_sourced_id", mode="before")(_ref_sourced_id)


class UserId(BaseModel):
    """An identifier of the user in another system (e.g. ``PowerSchool DCID``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str
    identifier: str


class OneRosterUser(OneRosterRecord):
    identifier: str | None = None
    enabled_user: bool = Field(alias="enabledUser")
    roles: tuple[UserRole, ...] = Field(min_length=1)
    user_ids: tuple[UserId, ...] = Field(default=(), alias="userIds")
    primary_org_sourced_id: str | None = Field(default=None, alias="primaryOrg")
    grades: tuple[str, ...] = ()

    _primary_org_ref = field_validator("primary_org_sourced_id", mode="before")(_ref_sourced_id)

    @model_validator(mode="before")
    @classmethod
    def _roles_from_v1p1(cls, data: Any) -> Any:
        """1.1 users have one ``role`` over ``orgs[]``; express it as 1.2 ``roles[]``."""
        if not isinstance(data, Mapping) or "roles" in data or "role" not in data:
            return data
        orgs = data.get("orgs") or [None]
        roles = [
            {"role": data["role"], "roleType": "primary" if index == 0 else "secondary", "org": org}
            for index, org in enumerate(orgs if isinstance(orgs, list) else [orgs])
        ]
        return {**data, "roles": roles}

    @field_validator("enabled_user", mode="before")
    @classmethod
    def _string_bool(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, bool):
            return value
        raise ValueError("enabledUser must be true or false")

    @property
    def org_sourced_ids(self) -> tuple[str, ...]:
        """The orgs of every role, primary role first, without repeats."""
        ordered = sorted(self.roles, key=lambda entry: entry.role_type != "primary")
        return tuple(dict.fromkeys(entry.org_sourced_id for entry in ordered if entry.org_sourced_id))

    def has_role(self, role: str) -> bool:
        return any(entry.role == role for entry in self.roles)

    def user_id(self, id_type: str) -> str | None:
        """The identifier of the given ``userIds`` type (case-insensitive), e.g. the SIS's own key."""
        wanted = id_type.lower()
        return next((entry.identifier for entry in self.user_ids if entry.type.lower() == wanted), None)


class OneRosterEnrollment(OneRosterRecord):
    user_sourced_id: str = Field(alias="user")
    class_sourced_id: str = Field(alias="class")
    school_sourced_id: str | None = Field(default=None, alias="school")
    role: str
    primary: bool | None = None
    begin_date: date | None = Field(default=None, alias="beginDate")
    end_date: date | None = Field(default=None, alias="endDate")

    _refs = field_validator("user_sourced_id", "class_sourced_id", "school_sourced_id", mode="before")(
        _ref_sourced_id
    )


class OneRosterOrg(OneRosterRecord):
    name: str | None = None
    type: str
    identifier: str | None = None
    parent_sourced_id: str | None = Field(default=None, alias="parent")

    _parent_ref = field_validator("parent_sourced_id", mode="before")(_ref_sourced_id)


class OneRosterClass(OneRosterRecord):
    title: str | None = None
    class_code: str | None = Field(default=None, alias="classCode")
    class_type: str | None = Field(default=None, alias="classType")
    school_sourced_id: str = Field(alias="school")
    course_sourced_id: str | None = Field(default=None, alias="course")
    term_sourced_ids: tuple[str, ...] = Field(default=(), alias="terms")

    _refs = field_validator("school_sourced_id", "course_sourced_id", mode="before")(_ref_sourced_id)

    @field_validator("term_sourced_ids", mode="before")
    @classmethod
    def _term_refs(cls, value: Any) -> Any:
        return [_ref_sourced_id(term) for term in value] if isinstance(value, list) else value


class OneRosterAcademicSession(OneRosterRecord):
    title: str | None = None
    type: str
    start_date: date = Field(alias="startDate")
    end_date: date = Field(alias="endDate")
    school_year: str | None = Field(default=None, alias="schoolYear")
    parent_sourced_id: str | None = Field(default=None, alias="parent")

    _parent_ref = field_validator("parent_sourced_id", mode="before")(_ref_sourced_id)

    @field_validator("school_year", mode="before")
    @classmethod
    def _year_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


RecordT = TypeVar("RecordT", bound=OneRosterRecord)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A quarantined record: where it was, a hash to correlate it, and what was wrong (no values)."""

    index: int
    sourced_id_hash: str | None
    reason: str


def sourced_id_hash(sourced_id: str) -> str:
    """A short stable digest that lets an operator find the record in the SIS without logging its id."""
    return hashlib.sha256(sourced_id.encode("utf-8")).hexdigest()[:16]


def _reason(error: ValidationError) -> str:
    problems = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in detail["loc"]) or "record"
        problems.append(f"{where}: {detail['msg']}")
    return "; ".join(problems)


def parse_records(model: type[RecordT], raw_records: Iterable[Any]) -> tuple[list[RecordT], list[Rejected]]:
    """Validate raw JSON objects into ``model``; malformed ones are quarantined, not fatal."""
    accepted: list[RecordT] = []
    rejected: list[Rejected] = []
    for index, raw in enumerate(raw_records):
        if not isinstance(raw, Mapping):
            rejected.append(Rejected(index, None, "record is not a JSON object"))
            continue
        try:
            accepted.append(model.model_validate(raw))
        except ValidationError as error:
            sourced_id = raw.get("sourcedId")
            digest = sourced_id_hash(sourced_id) if isinstance(sourced_id, str) and sourced_id else None
            rejected.append(Rejected(index, digest, _reason(error)))
    return accepted, rejected
