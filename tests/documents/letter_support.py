"""Facts for letters in tests: a family whose names and address use the scripts families write in."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdfium2
from pypdf import PdfReader

from truancy.documents.catalogs import Catalog
from truancy.documents.letters import PLACEHOLDER, Absence, District, LetterFacts, Recipient

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "letters"
DISTRICT = District(
    "Sandbox Unified School District",
    ("100 Main Street", "Springfield, CA 95000"),
    "(555) 010-0100",
    "Dana Ortiz",
    "Supervisor of Attendance",
)
EXTRA = {
    "board_name": "Sandbox County School Attendance Review Board",
    "board_address": "200 Court Street, Springfield, CA 95000",
    "referral_reason": "Repeated absences without a valid excuse after a parent conference.",
    "days_missed": "9",
    "percent_missed": "11",
}


def facts(letter_date: date, student: str = "Ana Rivera", guardian: str = "María Rivera") -> LetterFacts:
    return LetterFacts(
        letter_date=letter_date,
        student=student,
        school="Lincoln Elementary",
        recipient=Recipient(guardian, ("12 Oak Avenue", "Springfield, CA 95000")),
        absences=(
            Absence(date(2026, 11, 3), "full_day"),
            Absence(date(2026, 11, 10), "tardy", 45),
            Absence(date(2026, 11, 17), "full_day"),
        ),
        supports=("A counselor to talk with", "Help with transportation"),
        contact_name="Ms. Rivera",
        contact_phone="(555) 010-0199",
        contact_email="attendance@example.org",
        extra=EXTRA,
    )


def family_facts(letter_date: date) -> LetterFacts:
    """A family letter (TX § 25.095(a)): two children, no absences."""
    return replace(
        facts(letter_date),
        student="Ana Rivera (Lincoln Elementary), Luis Rivera (Central High School)",
        recipient=Recipient("María Rivera", ("12 Oak Avenue", "Springfield, TX 75000")),
        absences=(),
    )


def district_authored(catalog: Catalog) -> Catalog:
    """``catalog`` with every shipped skeleton string replaced, as a district that wrote its own
    attendance-policy letter would have it (test text, not any district's policy)."""
    authored = {
        key: f"Our district attendance policy says this about {key.rsplit('.', 1)[-1].replace('_', ' ')}."
        if PLACEHOLDER in text
        else text
        for key, text in catalog.messages.items()
    }
    return Catalog(catalog.language, "Test district reviewer", catalog.reviewed_on, True, authored)


def catalog_text(catalog: Catalog, key: str, student: str = "Ana Rivera") -> str:
    """A catalog string as a letter about ``student`` says it, words only."""
    import re

    return " ".join(re.findall(r"\w+", catalog.messages[key].format_map({"student": student, **EXTRA})))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts(pdf: bytes) -> set[str]:
    fonts: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    return fonts


def render_pages(pdf: bytes, name: str) -> list[Path]:
    """Each page as a PNG under test-artifacts/letters/, for a person to look at; returns the paths."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    paths = []
    document = pypdfium2.PdfDocument(pdf)
    for number in range(len(document)):
        image = document[number].render(scale=1.5).to_pil()
        path = ARTIFACTS / f"{name}-page{number + 1}.png"
        image.save(path)
        paths.append(path)
    return paths


def ink_fraction(path: Path) -> float:
    """The share of a page's pixels that are not white: a blank or glyph-less page is near 0."""
    from PIL import Image

    with Image.open(path) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
    return 1 - sum(histogram[250:]) / sum(histogram)
