"""OneRoster 1.1 and 1.2 Rostering: REST (paging, filters, imsx errors), CSV packages, delta reads."""

from truancy.connector.imsx import ImsxStatus, parse_imsx
from truancy.connector.oneroster.client import OneRosterClient, Page
from truancy.connector.oneroster.csv_package import CsvPackage
from truancy.connector.oneroster.delta import DEFAULT_OVERLAP, DeltaRead, PageSource
from truancy.connector.oneroster.query import all_of, any_of, modified_since_filter, where
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
    "DEFAULT_OVERLAP",
    "CsvPackage",
    "DeltaRead",
    "ImsxStatus",
    "OneRosterAcademicSession",
    "OneRosterClass",
    "OneRosterClient",
    "OneRosterEnrollment",
    "OneRosterOrg",
    "OneRosterRecord",
    "OneRosterUser",
    "Page",
    "PageSource",
    "Rejected",
    "UserId",
    "UserRole",
    "all_of",
    "any_of",
    "modified_since_filter",
    "parse_imsx",
    "parse_records",
    "sourced_id_hash",
    "where",
]
