"""Letters: every required element of every shipped notice in every shipped language that may send
it, in the PDF's own text; refusals for a missing element, an over-budget letter or a district
skeleton not yet authored; each state's letters within their budget, their pages saved under
test-artifacts/letters/; one PDF carrying a letter in two languages; scripts."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.documents.letter_support import (
    DISTRICT,
    catalog_text,
    district_authored,
    facts,
    family_facts,
    ink_fraction,
    pdf_fonts,
    pdf_text,
    render_pages,
)
from truancy.documents.catalogs import Catalog, load_catalog, load_catalogs
from truancy.documents.letters import (
    READING,
    LetterError,
    flesch_kincaid_grade,
    render_letter,
    shown_citation,
    to_pdf,
    to_pdf_all,
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
    shipped = load_catalogs()[language]
    for notice in load_notices(state).notices:
        required = notice.elements_on(letter_date)
        catalog = shipped
        if not (catalog.reviewed and catalog.statutory_reviewed):
            with pytest.raises(LetterError, match="no reviewed text"):
                render_letter(notice, facts(letter_date), catalog, DISTRICT)
            continue
        if notice.district_authored:  # the shipped skeleton never goes out; the district's words do
            with pytest.raises(LetterError, match="district has not authored"):
                render_letter(notice, facts(letter_date), catalog, DISTRICT)
            catalog = district_authored(catalog)
        letter = render_letter(notice, facts(letter_date), catalog, DISTRICT)
        assert letter.elements == tuple(e.id for e in required)
        text = " ".join(_words(pdf_text(to_pdf(letter.html))))
        for element in required:
            wanted = catalog.messages[f"element.{notice.id}.{element.id}"]
            wanted = wanted.format_map({"student": "Ana Rivera", **facts(letter_date).extra})
            assert " ".join(_words(wanted)) in text, (notice.id, element.id)
            assert " ".join(_words(shown_citation(element.citation))) in text


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


def _notices() -> list[tuple[str, str]]:
    return [(state, notice.id) for state in notice_states() for notice in load_notices(state).notices]


@pytest.mark.parametrize(("state", "notice_id"), _notices())
def test_each_state_letter_renders_within_its_budget_and_its_pages_are_saved(
    state: str, notice_id: str
) -> None:
    """Every shipped notice of every state, as an English-speaking family gets it today: within the
    pack's word and reading-grade budget, every element in the PDF, pages saved to look at."""
    notice = load_notices(state).notice(notice_id)
    catalog = load_catalogs()["en"]
    if notice.district_authored:
        catalog = district_authored(catalog)
    letter_facts = family_facts(AFTER_SB691) if notice.audience.per == "family" else facts(AFTER_SB691)
    letter = render_letter(notice, letter_facts, catalog, DISTRICT)
    assert letter.words <= notice.budget.max_words
    assert letter.grade_level is not None
    assert letter.grade_level <= notice.budget.max_grade_level
    pdf = to_pdf(letter.html)
    text = " ".join(_words(pdf_text(pdf)))
    assert " ".join(_words(letter_facts.recipient.name)) in text
    for element in notice.elements_on(AFTER_SB691):
        assert f'data-element="{element.id}"' in letter.html
        assert " ".join(_words(shown_citation(element.citation))) in text, element.id
    assert READING not in text  # a note for the pack's reviewers, not for the family
    pages = render_pages(pdf, f"{state.lower()}-{notice.id}")
    assert 1 <= len(pages) <= 3
    assert all(ink_fraction(page) > 0.002 for page in pages)  # no blank page (a signature-only one has text)


def test_the_start_of_year_letter_names_every_child_of_the_family_and_no_absences() -> None:
    notice = load_notices("TX").notice("tx_start_of_year")
    assert notice.trigger.enrollment
    assert notice.audience.per == "family"
    assert notice.channels == ("print",)
    letter_facts = family_facts(AFTER_SB691)
    letter = render_letter(notice, letter_facts, load_catalogs()["en"], DISTRICT)
    text = " ".join(_words(pdf_text(to_pdf(letter.html))))
    for child in ("Ana Rivera", "Luis Rivera"):
        assert child in text
    assert 'data-part="evidence"' not in letter.html  # nothing about any child's absences
    assert "10 or more days or parts of days within six months" in text
    assert len(render_pages(to_pdf(letter.html), "tx-start-of-year-family")) == 1  # one sheet a family


def test_elements_not_verified_in_the_statute_text_say_so() -> None:
    """Every element of the FL, IL, NY and federal packs either quotes a section read (its source
    comment names it) or says it is the pack's reading; NY and federal are the pack's reading."""
    for state in ("NY", "FEDERAL"):
        for notice in load_notices(state).notices:
            assert all("pack's reading" in e.citation for e in notice.elements), notice.id
    readings = {
        (notice.id, e.id)
        for state in ("FL", "IL", "TX", "PA")
        for notice in load_notices(state).notices
        for e in notice.elements
        if "pack's reading" in e.citation
    }
    assert ("tx_start_of_year", "parent_prosecution") in readings  # § 25.095(a)'s text was not found
    assert ("fl_child_study_team_notice", "meeting_to_find_remedies") in readings
    assert ("pa_saic_notice", "conference_offer") not in readings  # quoted from § 13-1333(b)


def test_one_pdf_carries_the_letter_in_english_and_the_family_language() -> None:
    """Cal. Educ. Code § 48985: English and the school's primary language, one letter after the other
    (the second catalog is a test fixture tagging the English text, not a translation)."""
    notice = load_notices("CA").notice("ca_truancy_notification")
    english = load_catalogs()["en"]
    tagged = Catalog(
        "vi", "Test fixture (not a translation)", english.reviewed_on, True,
        {key: f"[vi] {text}" for key, text in english.messages.items()},
    )  # fmt: skip
    letters = [render_letter(notice, facts(AFTER_SB691), c, DISTRICT) for c in (english, tagged)]
    pdf, pages = to_pdf_all([letter.html for letter in letters])
    assert len(pages) == 2
    assert sum(pages) == len(render_pages(pdf, "ca-48260.5-english-and-vietnamese"))
    text = " ".join(_words(pdf_text(pdf)))
    first = catalog_text(english, "element.ca_truancy_notification.truant")
    assert text.index(first) < text.index("vi " + first)
