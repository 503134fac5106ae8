"""Letters: every required element of every shipped notice in every shipped language that may send
it, in the PDF's own text; refusals for a missing element or an over-budget letter; scripts."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.documents.letter_support import (
    DISTRICT,
    facts,
    ink_fraction,
    pdf_fonts,
    pdf_text,
    render_pages,
)
from truancy.documents.catalogs import Catalog, load_catalog, load_catalogs
from truancy.documents.letters import (
    LetterError,
    flesch_kincaid_grade,
    render_letter,
    to_pdf,
)
from truancy.mappings.notices import Budget, load_notices, notice_states

STANDARD_LETTER = Path(__file__).with_name("standard_letter.txt")
BEFORE_SB691, AFTER_SB691 = date(2025, 3, 3), date(2026, 12, 1)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@pytest.mark.parametrize("state", notice_states())
@pytest.mark.parametrize("language", sorted(load_catalogs()))
@pytest.mark.parametrize("letter_date", [BEFORE_SB691, AFTER_SB691])
def test_every_element_in_every_shipped_language_or_no_letter(
    state: str, language: str, letter_date: date
) -> None:
    catalog = load_catalogs()[language]
    for notice in load_notices(state).notices:
        required = notice.elements_on(letter_date)
        if not (catalog.reviewed and catalog.statutory_reviewed):
            with pytest.raises(LetterError, match="no reviewed text"):
                render_letter(notice, facts(letter_date), catalog, DISTRICT)
            continue
        letter = render_letter(notice, facts(letter_date), catalog, DISTRICT)
        assert letter.elements == tuple(e.id for e in required)
        text = " ".join(_words(pdf_text(to_pdf(letter.html))))
        for element in required:
            wanted = catalog.messages[f"element.{notice.id}.{element.id}"]
            wanted = wanted.format_map({"student": "Ana Rivera", **facts(letter_date).extra})
            assert " ".join(_words(wanted)) in text, (notice.id, element.id)
            assert " ".join(_words(element.citation)) in text


def test_sb691_elements_by_letter_date() -> None:
    notice = load_notices("CA").notice("ca_truancy_notification")
    before = {e.id for e in notice.elements_on(date(2025, 6, 30))}
    after = {e.id for e in notice.elements_on(date(2025, 7, 1))}
    assert {"parent_prosecution", "pupil_prosecution", "driving_privilege", "accompany_pupil"} <= before
    assert not before & {"supportive_services", "staff_to_plan", "ten_percent_research"}
    assert after == {
        "truant",
        "duty_to_compel",
        "alternative_programs",
        "right_to_meet",
        "supportive_services",
        "staff_to_plan",
        "ten_percent_research",
    }


def test_a_catalog_missing_an_element_fails_to_render() -> None:
    english = load_catalogs()["en"]
    key = "element.ca_truancy_notification.staff_to_plan"
    lacking = Catalog(
        "en",
        english.reviewed_by,
        english.reviewed_on,
        True,
        {k: v for k, v in english.messages.items() if k != key},
    )
    notice = load_notices("CA").notice("ca_truancy_notification")
    with pytest.raises(LetterError, match=re.escape(key)):
        render_letter(notice, facts(AFTER_SB691), lacking, DISTRICT)
    # the same element is not required of a letter dated before SB 691: that one renders
    assert "staff_to_plan" not in render_letter(notice, facts(BEFORE_SB691), lacking, DISTRICT).elements


def test_a_template_leaving_out_an_element_fails_to_render(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "documents" / "templates" / "letter.html.j2"
    text = shipped.read_text(encoding="utf-8").replace(
        "{% for element in elements %}", "{% for element in elements[1:] %}"
    )
    (tmp_path / "letter.html.j2").write_text(text, encoding="utf-8")
    notice = load_notices("CA").notice("ca_truancy_notification")
    with pytest.raises(LetterError, match="left out required element"):
        render_letter(notice, facts(AFTER_SB691), load_catalogs()["en"], DISTRICT, template_dirs=[tmp_path])


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (Budget(max_words=120, max_grade_level=8), "words, over the budget"),
        (Budget(max_words=900, max_grade_level=2), "reading grade"),
    ],
)
def test_an_over_budget_letter_fails_to_render(budget: Budget, message: str) -> None:
    notice = load_notices("CA").notice("ca_truancy_notification").model_copy(update={"budget": budget})
    with pytest.raises(LetterError, match=message):
        render_letter(notice, facts(AFTER_SB691), load_catalogs()["en"], DISTRICT)


def test_an_unreviewed_catalog_sends_nothing_and_spanish_statutory_text_is_not_machine_made() -> None:
    spanish = load_catalog(Path(__file__).resolve().parents[2] / "documents" / "locales" / "es")
    assert not spanish.reviewed
    assert not spanish.statutory_reviewed
    assert not any(key.startswith("element.") for key in spanish.messages)
    assert spanish.text("letter.greeting") is None


@pytest.mark.parametrize(
    ("name", "student", "guardian", "font"),
    [
        ("vietnamese", "Nguyễn Văn An", "Nguyễn Thị Hoa", "Noto-Sans"),
        ("chinese", "陈小明", "陈美玲", "Noto-Sans-CJK"),
        ("arabic", "عمر حداد", "ليلى حداد", "Noto-Sans-Arabic"),
    ],
)
def test_names_in_every_script_render_with_their_fonts(
    name: str, student: str, guardian: str, font: str
) -> None:
    notice = load_notices("CA").notice("ca_truancy_notification")
    letter = render_letter(notice, facts(AFTER_SB691, student, guardian), load_catalogs()["en"], DISTRICT)
    pdf = to_pdf(letter.html)
    text = pdf_text(pdf)
    assert guardian in text.replace("\u200f", "").replace("\u200e", "") or guardian[::-1] in text
    assert any(font in embedded for embedded in pdf_fonts(pdf)), pdf_fonts(pdf)
    pages = render_pages(pdf, f"ca-48260.5-{name}")
    assert pages
    assert all(ink_fraction(page) > 0.01 for page in pages)


def test_plain_letter_against_the_standard_one() -> None:
    """The plain letter is shorter to read and easier than the standard legalistic letter."""
    notice = load_notices("CA").notice("ca_truancy_notification")
    letter = render_letter(notice, facts(AFTER_SB691), load_catalogs()["en"], DISTRICT)
    render_pages(to_pdf(letter.html), "ca-48260.5-english")
    standard = STANDARD_LETTER.read_text(encoding="utf-8")
    assert letter.grade_level is not None
    assert letter.grade_level <= notice.budget.max_grade_level < flesch_kincaid_grade(standard)
