"""Guardian contacts through the Ed-Fi plugin against the sandbox ODS/API over real HTTP (issue 12).

The sandbox serves the same generated guardians as DS 5 contacts that its OneRoster API serves as
parent/guardian users, so the Ed-Fi plugin must read the same people, addresses, emails, phones,
languages and mail flags as the PowerSchool plugin reads over OneRoster 1.2; and what the sandbox
serves validates against the DS 5.0 OpenAPI definitions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.edfi_support import edfi_plugin, served_records_validate
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.runtime import runtime
from truancy.daemon.settings import load_settings
from truancy.mappings.notices_contacts import GuardianContact
from truancy.plugins.base import GuardianSource
from truancy.plugins.edfi.guardians import DS4, DS5, contact_resources
from truancy.sandbox.server import SandboxServer, write_daemon_config

REPO = Path(__file__).resolve().parents[2]
LEA = 255901
STUDENTS = 60


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=STUDENTS, seed=6, as_of=PINNED_AS_OF) as running:
        yield running


def _comparable(contact: GuardianContact) -> tuple[object, ...]:
    """Everything but the student key (a sourcedId in OneRoster, a studentUniqueId in Ed-Fi) and the
    relationship's wording (each standard's own vocabulary)."""
    return (
        contact.contact_id,
        contact.name,
        contact.receives_mail,
        contact.contact_restriction,
        contact.address,
        contact.email,
        contact.phone,
        contact.language,
        contact.student_name,
        contact.school_name,
    )


def test_edfi_guardians_are_the_ones_oneroster_serves(server: SandboxServer, tmp_path: Path) -> None:
    students = server.district.students
    config = tmp_path / "truancy.toml"
    write_daemon_config(config, server.url)
    with runtime(load_settings(config)) as rt:
        oneroster = list(rt.plugin.guardian_contacts([s.sourced_id for s in students]))  # type: ignore[attr-defined]
    plugin = edfi_plugin(server.url, tmp_path)
    source: GuardianSource = plugin  # the contract's guardian member, checked by mypy
    try:
        edfi = list(source.guardian_contacts([s.student_number for s in students]))
    finally:
        plugin.close()

    assert len(edfi) >= STUDENTS
    assert sorted(map(_comparable, edfi)) == sorted(map(_comparable, oneroster))
    by_number = {s.student_number for s in students}
    assert {c.student_id for c in edfi} == by_number
    # the flags and languages the notices depend on come through, not defaults
    assert any(not c.receives_mail for c in edfi)
    assert any(c.contact_restriction for c in edfi)
    assert any(not c.may_receive for c in edfi)
    assert {c.language for c in edfi} - {"en"}
    assert any(c.email == "" for c in edfi)
    assert {c.relationship for c in edfi} <= {"Mother", "Father", "Guardian", "Grandmother"}
    assert all(c.address and c.address[-1].endswith(tuple("0123456789")) for c in edfi)


def test_an_unknown_student_has_no_guardians(server: SandboxServer, tmp_path: Path) -> None:
    plugin = edfi_plugin(server.url, tmp_path)
    try:
        assert list(plugin.guardian_contacts(["no-such-student"])) == []
    finally:
        plugin.close()


def test_the_data_standard_names_the_resources() -> None:
    assert contact_resources("5.2.0") is DS5
    assert DS5.contacts == "ed-fi/contacts"
    assert contact_resources("4.0.0") is DS4
    assert DS4.associations == "ed-fi/studentParentAssociations"
    assert contact_resources(None) is DS4


@pytest.mark.spec
def test_served_contacts_validate_against_ds5(server: SandboxServer, specs_dir: Path) -> None:
    resources = {
        "contacts": "edFi_contact",
        "studentContactAssociations": "edFi_studentContactAssociation",
    }
    served_records_validate(server.url, specs_dir, resources, STUDENTS)
