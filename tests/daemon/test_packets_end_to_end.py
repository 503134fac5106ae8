"""``truancy packet build`` end to end against the sandbox: a CA district synced over HTTP, then a
packet for a student with a case. The case file in the SIS is empty, so the checklist must name
exactly the steps not on record; the PDF's text is extracted (pypdf) and its pages rendered
(pypdfium2) to test-artifacts/packets/ for a person to look at."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdfium2
from pypdf import PdfReader
from pypdf.generic import Destination
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import sandbox_district
from truancy.daemon.audit_schema import access_log
from truancy.daemon.cli import app
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import cases, students
from truancy.mappings.case import case_from_dict

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "packets"


def render(pdf: bytes, name: str) -> list[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(pdf)
    paths = []
    for number in range(len(document)):
        path = ARTIFACTS / f"{name}-page{number + 1:02d}.png"
        document[number].render(scale=1.3).to_pil().save(path)
        paths.append(path)
    return paths


def section_pages(reader: PdfReader) -> dict[str, int]:
    """Each bookmark's title and the page it opens."""
    found = {}
    for item in reader.outline:
        assert isinstance(item, Destination)
        number = reader.get_destination_page_number(item)
        assert number is not None
        found[str(item.title)] = number
    return found


def test_sarb_packet_for_a_truant_names_exactly_what_is_missing(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=120) as district:
        district.sync()
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            rows = connection.execute(select(cases.c.student_id, cases.c.state)).all()
            # CA: no habitual truant before a conference effort (§ 48262), so every case is a truant's
            truants = [r.student_id for r in rows if "truant" in case_from_dict(r.state).designations]
            assert truants, "the seeded district has a truant"
            sis_ref = connection.execute(
                select(students.c.sis_ref).where(students.c.student_id == truants[0])
            ).scalar_one()
        out = tmp_path / "out" / "sarb.pdf"
        result = CliRunner().invoke(
            app,
            ["packet", "build", "--config", str(district.config), "--student", sis_ref, "--kind", "sarb",
             "--out", str(out), "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["complete"] is False
        # no letter sent, no conference, plan or referral on record, not yet habitual: all six missing
        assert report["missing"] == [
            "truancy_reports", "first_notification", "conference_attempts", "conference_record",
            "sart_contract", "community_services",
        ]  # fmt: skip
        assert out.stat().st_mode & 0o077 == 0
        pdf = out.read_bytes()
        reader = PdfReader(io.BytesIO(pdf))
        sections = section_pages(reader)
        assert list(sections)[:3] == ["Cover sheet", "Checklist", "Attendance calendar"]
        checklist_page = reader.pages[sections["Checklist"]]
        text = checklist_page.extract_text()
        assert text.startswith("Checklist")
        assert text.count("Missing") >= 6
        assert "Cal. Educ. Code § 48262" in text
        assert "Cal. Educ. Code §§ 48260, 48261, 48262" in text
        cover = reader.pages[0].extract_text()
        assert "Not ready: 6 of 6 checklist items are missing" in " ".join(cover.split())
        calendar_page = reader.pages[sections["Attendance calendar"]]
        assert calendar_page.images, "the attendance calendar is drawn as a picture"
        assert render(pdf, "ca-sarb-missing")
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            kinds = connection.execute(select(access_log.c.kind, access_log.c.students)).all()
        assert ("packet build", 1) in [tuple(k) for k in kinds]


def test_packet_for_a_student_without_a_case_is_refused_in_one_line(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=40) as district:
        district.sync()
        config = str(district.config)
        arguments = ["packet", "build", "-c", config, "--student", "nobody", "--kind", "sarb"]
        result = CliRunner().invoke(app, arguments)
        assert result.exit_code == 2
        assert "no student with that SIS id" in result.output
