"""`truancy notices preview` and `truancy notices languages` against the sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.notice_support import SMTP_PASSWORD, SMTP_USER, smtp_server
from tests.daemon.sandbox_sync import sandbox_district
from tests.documents.letter_support import pdf_text, render_pages
from truancy.daemon.audit_schema import access_log
from truancy.daemon.cli import app
from truancy.daemon.notices_schema import notices
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


def test_sync_once_with_auto_approval_emails_and_writes_each_pdf_under_output_dir(tmp_path: Path) -> None:
    """The settings contract: [notices] approval = "auto" and [notices.email] make `truancy sync
    --once` email each due letter (PDF attached) and write its PDF under output_dir."""
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        secrets = tmp_path / "secrets"
        secrets.mkdir(mode=0o700)
        password = secrets / "smtp_password"
        password.write_text(SMTP_PASSWORD, encoding="utf-8")
        password.chmod(0o600)
        with district.config.open("a", encoding="utf-8") as config:
            config.write(
                f"""
[notices]
approval = "auto"
output_dir = "letters"

[notices.email]
host = "127.0.0.1"
port = {port}
starttls = true
from_address = "attendance@sandbox.example.org"
username = "{SMTP_USER}"
password_file = "smtp_password"
verify_tls = "{ca}"
"""
            )
        args = ["--config", str(district.config), "--secrets-dir", str(secrets)]
        result = CliRunner().invoke(app, ["sync", "--once", *args, "--json"])
        assert result.exit_code in (0, 4), result.output
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            query = select(notices).where(notices.c.status == "sent")
            sent = [dict(row) for row in connection.execute(query).mappings()]
        assert sent
        addresses = {r["email"] for row in sent for r in row["facts"]["recipients"] if r["email"]}
        assert {m["To"] for m in mailbox.messages} == addresses
        assert all(len(list(m.iter_attachments())) == 1 for m in mailbox.messages)
        letters = tmp_path / "letters"
        assert len(list(letters.glob("ca_*-*.pdf"))) == len(sent)  # every letter sent: § 48260.5, chronic

        day = sent[0]["sent_on"].isoformat()
        (letters / f"print-{day}.pdf").unlink()
        rebuilt = CliRunner().invoke(app, ["notices", "batch", *args, "--date", day])
        assert rebuilt.exit_code == 0, rebuilt.output
        printed = [row for row in sent if not any(r["email"] for r in row["facts"]["recipients"])]
        assert printed
        assert len(PdfReader(letters / f"print-{day}.pdf").pages) >= len(printed)
