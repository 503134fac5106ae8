"""The TX start-of-year notice (Tex. Educ. Code § 25.095(a)) end to end against the sandbox over
HTTP: at the year's first cycle every enrolled student's family gets one letter (siblings share
one), held as one batch the officer approves with one command, printed by the next cycle in files
sorted by school with a manifest, recorded per family and school year so no later cycle makes a
second; a student enrolled later gets their own; a student with a case gets a note in the SIS; the
court packet's checklist shows the notice sent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import District, sandbox_district
from tests.documents.letter_support import render_pages
from truancy.daemon.cli import app
from truancy.daemon.family_notices_schema import family_notice_students, family_notices
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.pipeline import CycleSummary, SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import cases, enrollments, students
from truancy.sandbox.guardians import household_heads

pytestmark = pytest.mark.slow
START, LATER = date(2025, 8, 20), date(2026, 3, 2)
NOTICES = '\n[notices]\napproval = "officer"\noutput_dir = "letters"\ncontact_phone = "(555) 010-0199"\n'


def _cycle(district: District, today: date) -> CycleSummary:
    """One cycle as the service runs it, with the TOML's [notices] (the district is in TX)."""
    with runtime(district.settings) as rt:
        pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, notices=notice_cycle(rt))
        return pipeline.run_cycle(today=today)


def _letters(district: District) -> list[dict[str, Any]]:
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(family_notices)).mappings()]


def _covered(district: District) -> dict[str, str]:
    """Student id -> the family letter covering them."""
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        return dict(
            connection.execute(
                select(family_notice_students.c.student_id, family_notice_students.c.notice_id)
            ).all()
        )


def _enrolled_on(district: District, day: date) -> set[str]:
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        return set(
            connection.execute(
                select(enrollments.c.student_id).where(
                    enrollments.c.begin_date <= date(2026, 6, 30),
                    (enrollments.c.end_date.is_(None)) | (enrollments.c.end_date >= day),
                )
            ).scalars()
        )


def _cli(*arguments: str) -> Any:
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result


def test_every_family_gets_one_start_of_year_letter_approved_as_a_batch_and_printed_once(
    tmp_path: Path,
) -> None:
    with sandbox_district(tmp_path, state="TX", extra_toml=NOTICES) as district:
        truth = district.server.district
        assert truth is not None
        late = truth.students[-1]  # withdrawn before the year's first cycle, back in March
        withdrawal = {"sourcedId": late.sourced_id, "endDate": "2025-08-19"}
        district.control("POST", "/oneroster/enrollment/end", json=withdrawal)

        first = _cycle(district, START)
        assert first.ok, first.errors
        letters = _letters(district)
        covered = _covered(district)
        enrolled = _enrolled_on(district, START)
        assert late.sourced_id not in enrolled
        assert set(covered) == enrolled  # every enrolled student, once
        assert len(letters) == len(set(covered.values())) < len(covered)  # siblings share a letter
        assert {row["status"] for row in letters} <= {"pending", "held"}
        assert len({row["batch_id"] for row in letters}) == 1

        # siblings (the sandbox's per-child guardian records, same name and address) share a letter
        school_index = {s.schoolid: i for i, s in enumerate(truth.schools)}
        heads = household_heads(truth.students, school_index)
        pairs = [(head.sourced_id, f"stu-{dcid}") for dcid, (head, _) in heads.items()]
        shared = [(a, b) for a, b in pairs if a in covered and b in covered]
        assert shared
        by_id = {row["notice_id"]: row for row in letters}
        for head, sibling in shared:
            if by_id[covered[head]]["status"] != "held":
                assert covered[head] == covered[sibling]

        # no per-letter review task in the SIS: the officer approves the batch
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        assert not [t for t in tasks if "Start-of-year" in t["title"]]
        batch = letters[0]["batch_id"]
        assert (tmp_path / "letters" / f"{batch}-sample.pdf").is_file()
        approve = ("notices", "approve", "-c", str(district.config), "--json")
        listing = json.loads(_cli(*approve, "--list").output)
        [entry] = listing["batches"]
        assert entry["students"] == len(covered)
        pending = entry["letters"]["pending"]
        approved = json.loads(_cli(*approve, "--notice", "tx_start_of_year").output)
        assert approved == {"approved": {batch: pending}}

        second = _cycle(district, START)
        assert second.ok, second.errors
        letters = _letters(district)
        sent = [row for row in letters if row["status"] == "sent"]
        assert len(sent) == pending
        parts = sorted((tmp_path / "letters").glob(f"{batch}-print-*.pdf"))
        assert parts == sorted({Path(row["print_file"]) for row in sent})
        pages = 0
        manifest: list[list[str]] = []
        for part in parts:
            lines = part.with_suffix(".csv").read_text().splitlines()
            assert lines[0] == "school_id,notice,students,pages,language,wanted_language"
            rows = [line.split(",") for line in lines[1:]]
            assert sum(int(row[3]) for row in rows) == len(PdfReader(part).pages)
            pages += len(PdfReader(part).pages)
            manifest += rows
        assert len(manifest) == pending
        schools = [row[0] for row in manifest]
        assert schools == sorted(schools)  # the whole mailing in school order, part after part
        assert sum(int(row[2]) for row in manifest) == sum(row["facts"]["children"] for row in sent)
        family = next(row for row in sent if row["facts"]["children"] >= 2)
        reader = PdfReader(family["print_file"])
        text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
        for child in family["facts"]["letter"]["student"].split(", "):
            assert child.split(" (")[0] in text
        assert "10 or more days or parts of days within six months" in text
        render_pages(
            (tmp_path / "letters" / f"{batch}-sample.pdf").read_bytes(), "e2e-tx-start-of-year-sample"
        )

        # later cycles print nothing again; a student enrolled in March gets their own letter
        third = _cycle(district, START)
        assert third.ok, third.errors
        assert len(_letters(district)) == len(letters)
        district.control(
            "POST",
            "/oneroster/enrollment/reenter",
            json={"sourcedId": late.sourced_id, "beginDate": LATER.isoformat(), "endDate": "2026-06-04"},
        )
        fourth = _cycle(district, LATER)
        assert fourth.ok, fourth.errors
        now = _covered(district)
        assert late.sourced_id in now
        assert now[late.sourced_id] not in covered.values()
        assert {k: v for k, v in now.items() if k != late.sourced_id} == covered


def test_a_student_with_a_case_gets_the_sent_letter_noted_and_the_court_checklist_sees_it(
    tmp_path: Path,
) -> None:
    with sandbox_district(
        tmp_path, state="TX", extra_toml=NOTICES.replace('"officer"', '"auto"')
    ) as district:
        assert _cycle(district, START).ok  # auto approval: generated and printed in one cycle
        assert {row["status"] for row in _letters(district)} <= {"sent", "held"}
        assert _cycle(district, district.today or LATER).ok  # the year's absences: cases open
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            with_case = set(connection.execute(select(cases.c.student_id)).scalars())
            refs = dict(connection.execute(select(students.c.student_id, students.c.sis_ref)).all())
        sent = {row["notice_id"]: row for row in _letters(district) if row["status"] == "sent"}
        covered = {s: n for s, n in _covered(district).items() if n in sent and s in with_case}
        assert covered
        notes = district.sis_rows()["U_TRUANCY_NOTES"]
        noted = {n["studentsdcid"] for n in notes if "Start-of-year attendance notice" in n["note_text"]}
        assert noted == {refs[s] for s in covered}

        student = next(iter(covered))
        report = _cli(
            "packet", "build", "-c", str(district.config), "--student", refs[student], "--kind", "court",
            "--out", str(tmp_path / "court.pdf"), "--json",
        )  # fmt: skip
        assert "start_of_year_notice" not in json.loads(report.output)["missing"]
        cover = " ".join(
            " ".join((page.extract_text() or "").split()) for page in PdfReader(tmp_path / "court.pdf").pages
        )
        assert f"sent {sent[covered[student]]['sent_on'].isoformat()}" in cover
