"""OneRoster 1.2 Rostering over REST: paging, filters, imsx errors and typed records."""

from truancy.connector.imsx import ImsxStatus, parse_imsx
from truancy.connector.oneroster.client import OneRosterClient, Page, modified_since_filter
from truancy.connector.oneroster.records import (
    OneRosterAcademicSession,
    OneRosterClass,
    OneRosterEnrollment,
    OneRosterOrg,
    OneRosterRecord,
    OneRosterUser,
    Rejected,
    UserId,
    UserRole,
    parse_records,
    sourced_id_hash,
)

__all__ = [
    "ImsxStatus",
    "OneRosterAcademicSession",
    "OneRosterClass",
    "OneRosterClient",
    "OneRosterEnrollment",
    "OneRosterOrg",
    "OneRosterRecord",
    "OneRosterUser",
    "Page",
    "Rejected",
    "UserId",
    "UserRole",
    "modified_since_filter",
    "parse_imsx",
    "parse_records",
    "sourced_id_hash",
]
