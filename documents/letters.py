"""Render one family letter: the notice's required elements from a reviewed catalog, the dated
absences that counted, the supports offered and whom to call, in plain language, then PDF.

A letter that would miss a required element, or run over the notice's word or reading-level
budget, is refused (:class:`LetterError`) rather than rendered: no family receives it.

PDF engine: WeasyPrint. It lays out HTML and CSS with Pango and HarfBuzz, so Vietnamese stacked
diacritics, CJK and right-to-left Arabic shape correctly with the system's Noto fonts, and page
CSS (``@page``, absolute boxes) places the window-envelope address block exactly; it is actively
maintained and BSD-licensed. ReportLab would need per-script font registration and has no
complex-script shaping in its open-source edition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from pathlib import Path

import pyphen
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from truancy.documents.catalogs import Catalog
from truancy.mappings.notices import Notice

TEMPLATES = Path(__file__).resolve().parent / "templates"
SOURCE_LANGUAGE = "en"
READING = "pack's reading"
"""How a pack marks an element it could not verify in the statute text."""
PLACEHOLDER = "[DISTRICT TO AUTHOR"
"""Marks a shipped skeleton string the district must replace: a letter carrying one is refused."""


class LetterError(ValueError):
    """A letter that must not go out as it stands; the message names what is missing or too long."""


@dataclass(frozen=True)
class District:
    name: str
    address: tuple[str, ...] = ()
    phone: str = ""
    signature_name: str = ""
    signature_title: str = ""


@dataclass(frozen=True)
class Recipient:
    name: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class Absence:
    """One dated record that counted: ``kind`` is ``full_day``, ``part_day`` or ``tardy``."""

    day: date
    kind: str
    minutes: int | None = None


@dataclass(frozen=True)
class LetterFacts:
    """Everything a letter says about one family, frozen when the notice is generated."""

    letter_date: date
    student: str
    school: str
    recipient: Recipient
    absences: tuple[Absence, ...]
    supports: tuple[str, ...] = ()
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Values particular elements name (e.g. ``board_name`` for a SARB referral)."""


@dataclass(frozen=True)
class RenderedLetter:
    language: str
    html: str
    text: str
    elements: tuple[str, ...]
    words: int
    grade_level: float | None
    """Flesch-Kincaid grade of the letter's own prose (English only; None in other languages)."""


def _direction(language: str) -> str:
    try:
        return "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr"
    except (ValueError, UnknownLocaleError):
        return "ltr"


def _environment(template_dirs: Sequence[Path]) -> Environment:
    return Environment(
        loader=FileSystemLoader([*template_dirs, TEMPLATES]),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _Texts:
    """The catalog's strings for one letter; a missing one is collected, never silently skipped."""

    def __init__(self, catalog: Catalog, values: Mapping[str, str]) -> None:
        self.catalog = catalog
        self.values = values
        self.missing: list[str] = []

    def __call__(self, key: str, *, fallback: str | None = None, **more: str) -> str:
        """``fallback``: the key to use when the catalog lacks ``key`` (a notice's own wording of a
        line every letter has)."""
        text = self.catalog.text(key)
        if text is None and fallback is not None:
            return self(fallback, **more)
        if text is None:
            self.missing.append(key)
            return ""
        try:
            return str(text.format_map({**self.values, **more}))
        except (KeyError, IndexError, ValueError):
            self.missing.append(f"{key} (names a value this letter lacks)")
            return ""


def shown_citation(citation: str) -> str:
    """The citation as the family reads it: the pack's note that an element is its own reading of
    the law is for reviewers of the pack, not for the letter."""
    return citation.replace(f" ({READING})", "").replace(f"; {READING}", "").replace(READING, "").strip()


def render_letter(
    notice: Notice,
    facts: LetterFacts,
    catalog: Catalog,
    district: District,
    *,
    template_dirs: Sequence[Path] = (),
) -> RenderedLetter:
    """The letter for ``notice`` in ``catalog``'s language, or LetterError saying why not.

    ``template_dirs``: a district's own templates (letterhead), searched before the shipped ones."""
    language = catalog.language
    values = {
        "student": facts.student,
        "school": facts.school,
        "guardian": facts.recipient.name,
        "contact_name": facts.contact_name,
        "contact_phone": facts.contact_phone,
        "contact_email": facts.contact_email,
        **facts.extra,
    }
    t = _Texts(catalog, values)
    required = notice.elements_on(facts.letter_date)
    elements = [
        {"id": e.id, "text": t(f"element.{notice.id}.{e.id}"), "citation": shown_citation(e.citation)}
        for e in required
    ]
    absences = [
        f"{format_date(a.day, 'full', locale=language)}: "
        + t(f"absence.{a.kind}", minutes=str(a.minutes or ""))
        for a in facts.absences
    ]
    context = {
        "lang": language,
        "direction": _direction(language),
        "district": district,
        "recipient": facts.recipient,
        "letter_date": format_date(facts.letter_date, "long", locale=language),
        "student_line": t(f"notice.{notice.id}.student_line", fallback="letter.student_line"),
        "title": t(f"notice.{notice.id}.title"),
        "greeting": t("letter.greeting"),
        "opening": t(f"notice.{notice.id}.opening"),
        "absences_heading": t("letter.absences_heading"),
        "absences_intro": t("letter.absences_intro"),
        "corrections": t("letter.corrections"),
        "absences": absences,
        "supports_heading": t("letter.supports_heading"),
        "supports": list(facts.supports),
        "contact_heading": t("letter.contact_heading"),
        "contact": t("letter.contact"),
        "law_heading": t("letter.law_heading"),
        "elements": elements,
        "closing": t("letter.closing"),
    }
    if t.missing:
        raise LetterError(
            f"{notice.id} in {language!r}: no reviewed text for {', '.join(sorted(set(t.missing)))}"
        )
    skeleton = sorted(k for k, v in context.items() if isinstance(v, str) and PLACEHOLDER in v)
    skeleton += [e["id"] for e in elements if PLACEHOLDER in e["text"]]
    if skeleton:
        raise LetterError(
            f"{notice.id} in {language!r}: the district has not authored {', '.join(skeleton)} yet "
            "(its catalog still holds the shipped skeleton)"
        )
    html = _environment(template_dirs).get_template(notice.template).render(**context)
    return _check(notice, language, html, tuple(e.id for e in required), elements, context)


def _prose(context: Mapping[str, object], elements: Sequence[Mapping[str, str]]) -> str:
    """The letter's sentences, as a reader meets them: what word count and reading level measure
    (dates, the address block and citations are not prose)."""
    keys = ("title", "greeting", "opening", "absences_intro", "corrections", "contact", "closing")
    parts = [str(context[key]) for key in keys]
    parts.extend(str(item) for item in context["supports"])  # type: ignore[attr-defined]
    parts.extend(e["text"] for e in elements)
    return "\n".join(part if part.endswith((".", ":", "?", "!")) else part + "." for part in parts if part)


def _check(
    notice: Notice,
    language: str,
    html: str,
    required: tuple[str, ...],
    elements: Sequence[Mapping[str, str]],
    context: Mapping[str, object],
) -> RenderedLetter:
    present = tuple(re.findall(r'data-element="([a-z0-9_]+)"', html))
    absent = [element for element in required if element not in present]
    if absent:
        raise LetterError(f"{notice.id}: the template left out required element(s) {', '.join(absent)}")
    text = _visible_text(html)
    # the budget is the reading the family must do: the letter's sentences, not its letterhead,
    # address block, citations or the list of dates (which grows with the evidence)
    prose = _prose(context, elements)
    words = len(prose.split())
    if words > notice.budget.max_words:
        raise LetterError(f"{notice.id}: {words} words, over the budget of {notice.budget.max_words}")
    grade: float | None = None
    if language == SOURCE_LANGUAGE:
        grade = flesch_kincaid_grade(prose)
        if grade > notice.budget.max_grade_level:
            limit = notice.budget.max_grade_level
            raise LetterError(f"{notice.id}: reading grade {grade:.1f}, over the budget of {limit:g}")
    return RenderedLetter(language, html, text, present, words, grade)


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def flesch_kincaid_grade(text: str) -> float:
    """Flesch-Kincaid grade level (Kincaid et al. 1975): 0.39 words/sentence + 11.8 syllables/word
    - 15.59, syllables counted by pyphen's English hyphenation dictionary as textstat counts them."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(re.findall(r"[.!?:]+(?:\s|$)", text)))
    dictionary = pyphen.Pyphen(lang="en_US")
    syllables = sum(len(dictionary.positions(word)) + 1 for word in words)
    return round(0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59, 1)


def _visible_text(html: str) -> str:
    body = re.sub(r"(?s)<(style|title)[^>]*>.*?</\1>", " ", html)
    body = re.sub(r"<[^>]+>", "\n", body)
    lines = (line.strip() for line in body.splitlines())
    return unescape("\n".join(line for line in lines if line))


def to_pdf(html: str) -> bytes:
    """The letter as PDF bytes (fonts: the system's Noto families, which the install steps provide)."""
    from weasyprint import HTML  # imported here: Pango loads only when a letter is printed

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf


def to_pdf_all(htmls: Sequence[str]) -> tuple[bytes, list[int]]:
    """Several letters as one PDF, each starting on a new page (a print file, or one letter in
    two languages); returns the PDF and each letter's page count. Laid out one by one and written
    once, so the fonts are embedded once for the whole file."""
    from weasyprint import HTML

    documents = [HTML(string=html, base_url=str(TEMPLATES)).render() for html in htmls]
    if not documents:
        raise ValueError("no letters to print")
    pages = [page for document in documents for page in document.pages]
    pdf: bytes = documents[0].copy(pages).write_pdf()
    return pdf, [len(document.pages) for document in documents]
