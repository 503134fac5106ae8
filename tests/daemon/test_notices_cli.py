"""`truancy notices preview` and `truancy notices languages` against the sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import sandbox_district
from tests.documents.letter_support import pdf_text, render_pages
from truancy.daemon.audit_schema import access_log
from truancy.daemon.cli import app
from truancy.daemon.runtime import runtime
from truancy.documents.catalogs import load_catalogs
from truancy.mappings.notices import load_notices

pytestmark = pytest.mark.slow


def test_preview_renders_the_letter_of_a_truant_student_and_logs_the_access(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        flags = district.sis_rows()["U_TRUANCY_FLAGS"]
        dcid = next(row["studentsdcid"] for row in flags if row["flag_type"] == "truant")
        out = tmp_path / "preview.pdf"
        on = str(district.today)
        args = ["notices", "preview", "--config", str(district.config), "--student", dcid, "--out", str(out)]
        result = CliRunner().invoke(app, [*args, "--date", on])
        assert result.exit_code == 0, result.output
        text = " ".join(pdf_text(out.read_bytes()).split())
        notice = load_notices("CA").notice("ca_truancy_notification")
        english = load_catalogs()["en"]
        student = next(
            line for line in out.with_suffix(".txt").read_text().splitlines() if line.startswith("Student: ")
        )
        name = student.removeprefix("Student: ").rsplit(",", 1)[0]
        for element in notice.elements_on(district.today or notice.elements[0].operative_from):  # type: ignore[arg-type]
            wanted = english.messages[f"element.{notice.id}.{element.id}"].format(student=name)
            assert " ".join(wanted.split()) in text
        assert (out.stat().st_mode & 0o077) == 0
        render_pages(out.read_bytes(), "cli-preview")
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            kinds = connection.execute(select(access_log.c.kind, access_log.c.students)).all()
        assert ("notices preview", 1) in kinds

        missing = CliRunner().invoke(app, [*args[:5], "no-such-dcid", "--out", str(out)])
        assert missing.exit_code != 0
        assert "no student with SIS key" in missing.output


def test_languages_reports_each_school_at_or_over_the_48985_share(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        result = CliRunner().invoke(app, ["notices", "languages", "--config", str(district.config), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["threshold"] == 0.15
        rows = report["languages"]
        assert rows, "the sandbox draws Spanish at 30% in one school"
        assert all(row["share"] >= 0.15 and row["language"] != "en" for row in rows)
        assert {"es", "vi", "zh", "ar"} >= {row["language"] for row in rows}
        assert any(row["language"] == "es" and not row["reviewed_catalog"] for row in rows)
