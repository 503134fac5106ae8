"""Cal. Educ. Code § 48985 end to end against the sandbox: where 15 percent or more of a school's
pupils speak one primary language other than English (the sandbox draws Vietnamese at 18% in one
school and at 3-6% in the others), a family of that language gets its letter in English and in
that language, one PDF, English first; at a school under the share, in the family's language
alone; with no reviewed catalog, in English with a "translation needed" task citing § 48985. The
share is measured once (counts per school, kept for the year) the first time a letter needs it.
The Vietnamese catalog is a test fixture tagging the English text, not a translation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.daemon.sandbox_sync import sandbox_district
from tests.daemon.test_notices_end_to_end import _fixture_catalog
from tests.documents.letter_support import render_pages
from truancy.daemon.notice_languages import school_languages
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.notices_schema import notices
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.documents.catalogs import load_catalogs

pytestmark = pytest.mark.slow
NOTICES = '\n[notices]\napproval = "auto"\noutput_dir = "letters"\ncatalogs_dir = "catalogs"\n'


def _text(pdf: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_a_letter_in_a_schools_primary_language_goes_in_english_too(tmp_path: Path) -> None:
    _fixture_catalog(tmp_path / "catalogs", "vi")
    with sandbox_district(tmp_path, students=400, extra_toml=NOTICES) as district:
        with runtime(district.settings) as rt:
            pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, notices=notice_cycle(rt))
            assert pipeline.run_cycle(today=district.today).ok
            with rt.engine.connect() as connection:
                rows = [dict(r) for r in connection.execute(select(notices)).mappings()]
                kept = connection.execute(select(school_languages)).mappings().all()
        shares = {(r["school_id"], r["language"]): r["students"] / r["total"] for r in kept}
        assert max(share for (_, language), share in shares.items() if language == "vi") >= 0.15
        vietnamese = [r for r in rows if r["wanted_language"] == "vi"]
        dual = [r for r in vietnamese if shares[(r["school_id"], "vi")] >= 0.15]
        alone = [r for r in vietnamese if shares[(r["school_id"], "vi")] < 0.15]
        assert dual, "a Vietnamese family at the school where Vietnamese reaches 15%"
        assert all(r["facts"]["languages"] == ["en", "vi"] and r["language"] == "vi" for r in dual)
        assert all(r["facts"]["languages"] == ["vi"] for r in alone)

        sent = next(
            r for r in dual if r["status"] == "sent" and r["notice_type"] == "ca_truancy_notification"
        )
        pdf = Path(sent["pdf_path"]).read_bytes()
        text = _text(pdf)
        english = load_catalogs()["en"].messages["element.ca_truancy_notification.duty_to_compel"]
        student = sent["facts"]["letter"]["student"]
        plain = " ".join(english.format(student=student).split())
        assert plain in text
        assert text.index(plain) < text.index(f"[fixture] {plain}")  # English first, then Vietnamese
        assert sent["letter_text"].index(english.split("{")[0]) < sent["letter_text"].index("[fixture]")
        render_pages(pdf, "e2e-ca-48985-english-and-vietnamese")

        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        translation = {t["studentsdcid"]: t for t in tasks if t["task_type"] == "notice_translation"}
        assert not translation.keys() & {r["sis_ref"] for r in vietnamese}
        spanish = [r for r in rows if r["wanted_language"] == "es"]
        assert spanish
        assert all(r["language"] == "en" for r in spanish)
        assert all(translation[r["sis_ref"]]["citation"] == "Cal. Educ. Code § 48985" for r in spanish)
