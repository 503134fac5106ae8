"""A checklist item met by a notice sent to the family this school year (TX § 25.095(a)'s
start-of-year letter, on which a § 25.093 complaint rests): met with its date, or missing."""

from __future__ import annotations

from datetime import date

import pytest

from truancy.mappings.case import CaseState
from truancy.mappings.casework import Requirement, load_casework
from truancy.mappings.casework_readiness import checklist
from truancy.mappings.casework_records import CaseFile

CASE = CaseState("s1", "2025-26", "TX", "open", None, {}, {}, ())


def _item(file: CaseFile) -> tuple[bool, str]:
    pack = load_casework("TX")
    [item] = [i for i in checklist(pack, "court", CASE, file, {}) if i.id == "start_of_year_notice"]
    assert item.citation == "Tex. Educ. Code §§ 25.095(a), 25.093"
    return item.met, item.evidence


def test_the_tx_court_checklist_shows_the_start_of_year_notice_sent_or_missing() -> None:
    assert _item(CaseFile()) == (False, "not sent this school year")
    sent = CaseFile(notices_sent={"tx_start_of_year": date(2025, 8, 21)})
    assert _item(sent) == (True, "sent 2025-08-21")
    other = CaseFile(notices_sent={"tx_warning_notice": date(2025, 9, 2)})
    assert _item(other)[0] is False


def test_a_requirement_names_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Requirement(id="x", label="x", citation="x", notice="tx_start_of_year", condition="sent")
