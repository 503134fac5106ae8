"""Invitation texts: every part the family needs (when, where, what for with its citation, an
interpreter offer, whom to call) in the catalog's language with the locale's dates; an unreviewed or
incomplete catalog refuses; the printed letter's PDF text and rendered page in Vietnamese."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest

from tests.documents.letter_support import DISTRICT, ink_fraction, pdf_fonts, pdf_text
from truancy.documents.catalogs import Catalog, load_catalogs
from truancy.documents.invitation_text import InvitationError, InvitationFacts, render_invitation
from truancy.documents.letters import to_pdf
from truancy.mappings.casework import load_casework

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "invitations"
FACTS = InvitationFacts(
    purpose="invitation",
    meeting_id="parent_conference",
    meeting_label="Parent conference",
    citation="Cal. Educ. Code § 48262",
    starts_at=datetime(2026, 12, 8, 15, 30, tzinfo=ZoneInfo("America/Los_Angeles")),
    minutes=45,
    place="Room 4, Lincoln Middle School",
    student="Nguyễn Văn An",
    school="Lincoln Middle School",
    guardians=("Nguyễn Thị Hoa", "Trần Văn Minh"),
    letter_date=date(2026, 12, 1),
    address=("12 Lê Lợi Way", "Springfield, CA 95012"),
    contact_name="Ms. Rivera",
    contact_phone="(555) 010-0199",
    contact_email="attendance@example.org",
)


def _catalogs() -> dict[str, Catalog]:
    return load_catalogs(domain="invitations")


def _reviewed(language: str) -> Catalog:
    """A shipped draft as a district's reviewer would sign it (the test's stand-in for a review)."""
    return replace(_catalogs()[language], reviewed_by="Test fixture reviewer", reviewed_on=date(2026, 11, 30))


def test_english_carries_every_part_with_the_locale_date_and_the_meeting_citation() -> None:
    text = render_invitation(FACTS, _catalogs()["en"], DISTRICT)
    assert text.language == "en"
    assert text.subject == "Invitation: Parent conference, Tuesday, December 8, 2026 at 3:30\u202fPM"
    assert "When: Tuesday, December 8, 2026, 3:30\u202fPM to 4:15\u202fPM" in text.body
    assert "Where: Room 4, Lincoln Middle School" in text.body
    assert "What the meeting is for: Parent conference: A meeting of you" in text.body
    assert "(Cal. Educ. Code § 48262)" in text.body
    assert "interpreter" in text.body
    assert "Please call Ms. Rivera at (555) 010-0199" in text.body
    assert "Dear Nguyễn Thị Hoa and Trần Văn Minh," in text.body
    assert text.summary == f"{DISTRICT.name}: Parent conference"
    assert FACTS.student not in text.summary + text.description  # a shared calendar names no child


def test_vietnamese_from_a_reviewed_catalog_with_vietnamese_dates() -> None:
    text = render_invitation(replace(FACTS, purpose="reminder"), _reviewed("vi"), DISTRICT)
    assert text.language == "vi"
    assert text.subject == "Nhắc nhở: Họp phụ huynh, Thứ Ba, 8 tháng 12, 2026 lúc 15:30"
    assert "Thời gian: Thứ Ba, 8 tháng 12, 2026, từ 15:30 đến 16:15" in text.body
    assert "Kính gửi Nguyễn Thị Hoa và Trần Văn Minh," in text.body
    assert "(Cal. Educ. Code § 48262)" in text.body  # citations as the pack has them
    assert text.summary == f"{DISTRICT.name}: Họp phụ huynh"


def test_the_shipped_vietnamese_draft_is_not_reviewed_so_it_sends_nothing() -> None:
    draft = _catalogs()["vi"]
    assert not draft.reviewed
    with pytest.raises(InvitationError, match="no reviewed text"):
        render_invitation(FACTS, draft, DISTRICT)


def test_every_shipped_catalog_has_every_string_and_every_pack_meeting() -> None:
    english = _catalogs()["en"]
    meetings = {m.id for state in ("CA", "TX", "PA") for m in load_casework(state).meetings}
    assert {f"meeting.{m}.{part}" for m in meetings for part in ("label", "purpose")} <= set(english.messages)
    for language, catalog in _catalogs().items():
        assert set(catalog.messages) == set(english.messages), language


def test_a_translation_without_the_meeting_refuses_and_english_names_the_pack_meeting() -> None:
    own = replace(FACTS, meeting_id="district_huddle", meeting_label="Family huddle")
    with pytest.raises(InvitationError, match=r"meeting\.district_huddle\.label"):
        render_invitation(own, _reviewed("vi"), DISTRICT)
    text = render_invitation(own, _catalogs()["en"], DISTRICT)
    assert "What the meeting is for: Family huddle (Cal. Educ. Code § 48262)" in text.body


def test_the_printed_vietnamese_invitation_renders_with_its_diacritics() -> None:
    text = render_invitation(FACTS, _reviewed("vi"), DISTRICT)
    pdf = to_pdf(text.html)
    extracted = " ".join(pdf_text(pdf).split())
    for expected in ("Nguyễn Thị Hoa và Trần Văn Minh", "12 Lê Lợi Way", "Thư mời họp về em Nguyễn Văn An"):
        assert expected in extracted, expected
    assert "Mục đích cuộc họp" in extracted
    assert "thông dịch viên" in extracted
    assert any("Noto-Sans" in font for font in pdf_fonts(pdf))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "ca-parent-conference-printed-vietnamese.png"
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1
    document[0].render(scale=1.5).to_pil().save(page)
    assert ink_fraction(page) > 0.01
