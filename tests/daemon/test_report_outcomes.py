"""``truancy report outcomes`` over a sandbox district's full year, checked against a recount.

The sandbox is pinned to the day after 2025-26's last school day; two cycles sync it, with officers'
work recorded in the SIS in between (notices sent, family outreach, conferences held, SARB
referrals made, each dated on its deadline). The recount below reads the sandbox's own generator
model (its students, their school's in-session days, the district's own attendance codes) and
applies Cal. Educ. Code §§ 48260(a) and 60901(c)(1) itself, without the daemon's engine or code map.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.daemon.browser import ARTIFACTS
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.audit_schema import access_log
from truancy.daemon.casework_progress import progress_cycle
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime, store_engine

pytestmark = pytest.mark.slow

TRUANCY = str(Path(sys.executable).parent / "truancy")
LAST_SCHOOL_DAY = date(2026, 6, 4)
WINDOW = 10
UNEXCUSED_DAY = {"A", "UNX"}  # "Absent - Unverified", "Unexcused Absence"
ABSENT_DAY = {"A", "UNX", "EX", "ILL", "MED", "SUS"}  # any full day missed, suspension included
UNEXCUSED_PART = {"T", "T30", "UT", "ED"}  # late arrivals and an unexcused early departure, with minutes
AUTO_LETTERS = '\n[notices]\napproval = "auto"\n'
LETTER_DAYS = (date(2025, 11, 3), date(2026, 2, 2), PINNED_AS_OF)
OFFICER_WORK = {  # task id → the outcome recorded
    "truancy_notification": "sent_mail",
    "attendance_outreach": "contacted",
    "parent_conference": "held",
    "sarb_referral": "made",
}


@dataclass
class Recounted:
    school: str
    days: list[date]
    absent: set[date]
    occasions: set[date]
    """Days with an unexcused absence, or a tardy or part-day absence of more than 30 minutes."""

    def truant(self, on: date) -> bool:
        return sum(1 for d in self.occasions if d <= on) >= 3

    def chronically_absent(self, on: date) -> bool:
        days = [d for d in self.days if d <= on]
        return len(days) >= 31 and sum(d in self.absent for d in days) * 10 >= len(days)

    def rate(self, days: list[date]) -> float:
        return 1 - sum(d in self.absent for d in days) / len(days)


def recount(district: District) -> dict[int, Recounted]:
    """The sandbox's own students, days and codes, read as the statutes read them."""
    sandbox = district.server.district
    found: dict[int, Recounted] = {}
    for student in sandbox.students:
        school = sandbox.school(student.schoolid)
        days = [d for d in school.in_session if student.enrolled_on(d) and d <= LAST_SCHOOL_DAY]
        if not days:
            continue
        enrolled = set(days)
        absent: set[date] = set()
        counted: set[date] = set()
        for row in sandbox.attendance_of(student.dcid):
            if row.att_date not in enrolled:
                continue
            if row.att_code in ABSENT_DAY:
                absent.add(row.att_date)
            if row.att_code in UNEXCUSED_DAY or (row.att_code in UNEXCUSED_PART and (row.minutes or 0) > 30):
                counted.add(row.att_date)
        found[student.dcid] = Recounted(str(student.schoolid), days, absent, counted)
    return found


def sync(district: District, today: date, *, months_later: bool = False) -> None:
    """One cycle as of ``today`` with family letters on (sent without approval, by print).

    ``months_later``: the cycle follows the last by months, not a school day. Students flagged
    chronically absent early in the year whose rate then fell below 10% of their enrolled days
    (Cal. Educ. Code § 60901(c)(1)) lose the flag, its outreach task and any letter still waiting
    on it all at once, past the retraction guard's one-cycle limit: withdrawals the attendance
    supports, which a daily daemon makes a few at a time (the guard is tested on its own,
    test_retraction_guard). Officers' work withdraws nothing, so the cycles after it keep the guard.
    """
    with runtime(district.settings) as rt:
        pipeline = SyncPipeline(
            rt.engine,
            rt.plugin,
            rt.policy,
            notices=notice_cycle(rt),
            progress=progress_cycle(rt),
            guard=RetractionGuard(allow=months_later),
        )
        summary = pipeline.run_cycle(today=today)
    assert summary.ok, summary.errors
    assert summary.blocked is None, summary.blocked


def record_officer_work(district: District) -> dict[str, dict[str, date]]:
    """Officers mark each open task of OFFICER_WORK done on its due date (never after the last
    school day); returns task id → SIS student key → the date recorded."""
    done: dict[str, dict[str, date]] = {task: {} for task in OFFICER_WORK}
    with district.powerschool() as sis:
        for row in district.sis_rows()["U_TRUANCY_TASKS"]:
            if row["status"] != "open" or row["task_type"] not in OFFICER_WORK:
                continue
            on = min(date.fromisoformat(row["due_date"]), LAST_SCHOOL_DAY)
            outcome = OFFICER_WORK[row["task_type"]]
            sis.update_row(
                "U_TRUANCY_TASKS",
                row["id"],
                {"status": "done", "outcome": outcome, "completed_date": on.isoformat()},
            )
            done[row["task_type"]][row["studentsdcid"]] = on
    return done


def record_plans(district: District) -> dict[str, date]:
    """Officers record an attendance plan in the SIS for twelve students with a case, each starting
    on the middle day of the student's enrolled days; returns SIS student key → start date."""
    counted = recount(district)
    with_case = sorted({row["studentsdcid"] for row in district.sis_rows()["U_TRUANCY_TASKS"]}, key=int)
    long_enough = [dcid for dcid in with_case if len(counted[int(dcid)].days) > 2 * WINDOW + 1]
    starts = {dcid: (d := counted[int(dcid)].days)[len(d) // 2] for dcid in long_enough[:12]}
    with district.powerschool() as sis:
        for dcid, on in starts.items():
            fields = {"studentsdcid": dcid, "form": "SART attendance contract", "start_date": on.isoformat()}
            sis.insert_row("U_TRUANCY_PLANS", {**fields, "goals": "Attend every day", "target_rate": "90"})
    return starts


def report(district: District, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [TRUANCY, "report", "outcomes", "--config", str(district.config)]
    return subprocess.run(
        [*command, "--year", "2025-26", "--as-of", PINNED_AS_OF.isoformat(), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def year(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[District, dict[str, Any], Path, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("outcomes")
    with sandbox_district(tmp, students=500, extra_toml=AUTO_LETTERS) as district:
        for day in LETTER_DAYS:  # the daemon through the year: letters go out as students qualify
            sync(district, day, months_later=True)
        work = record_officer_work(district)
        sync(district, PINNED_AS_OF)
        more = record_officer_work(district)  # the referrals the conferences just made due
        plans = record_plans(district)
        sync(district, PINNED_AS_OF)
        for task, students in more.items():
            work[task].update(students)
        work["plan"] = plans
        out = tmp / "report"
        done = report(district, out, "--json")
        assert done.returncode == 0, done.stderr
        yield district, json.loads(done.stdout), out, work


def test_the_district_figures_match_a_recount_from_the_sandbox(year: Any) -> None:
    district, published, _, _ = year
    counted = recount(district)
    figures = published["district"]
    assert figures["students"] == len(counted)
    assert figures["truant"] == sum(s.truant(LAST_SCHOOL_DAY) for s in counted.values())
    assert figures["chronically_absent"] == sum(
        s.chronically_absent(LAST_SCHOOL_DAY) for s in counted.values()
    )
    assert published["as_of"] == LAST_SCHOOL_DAY.isoformat()
    january = next(m for m in published["months"] if m["month"] == "2026-01")
    end = date(2026, 1, 31)
    enrolled = [s for s in counted.values() if s.days[0] <= end]
    assert january["students"] == len(enrolled)
    assert january["truant"] == sum(s.truant(end) for s in enrolled)
    assert january["chronically_absent"] == sum(s.chronically_absent(end) for s in enrolled)


def test_school_cells_match_the_recount_or_are_withheld_so_none_can_be_derived(year: Any) -> None:
    district, published, _, _ = year
    counted = recount(district)
    schools = published["schools"]
    assert {s["school_id"] for s in schools} == {s.school for s in counted.values()}
    for measure, holds in (
        ("students", lambda s: True),
        ("truant", lambda s: s.truant(LAST_SCHOOL_DAY)),
        ("chronically_absent", lambda s: s.chronically_absent(LAST_SCHOOL_DAY)),
    ):
        expected = {
            school["school_id"]: sum(
                1 for s in counted.values() if s.school == school["school_id"] and holds(s)
            )
            for school in schools
        }
        withheld = [s["school_id"] for s in schools if s[measure] is None]
        for school in schools:
            if school[measure] is not None:
                assert school[measure] == expected[school["school_id"]] >= 10
        assert len(withheld) != 1, f"{measure}: a lone withheld cell is the district total minus the others"
        small = [name for name, n in expected.items() if n < 10]
        assert set(small) <= set(withheld)
        assert len(withheld) <= len(small) + (1 if small else 0)


def test_interventions_compare_the_days_before_and_after_each_officer_action(year: Any) -> None:
    district, published, _, work = year
    counted = recount(district)
    by_kind = {row["kind"]: row for row in published["interventions"] if row["language"] == "all"}
    plan_pairs = []
    for dcid, on in work["plan"].items():
        student = counted[int(dcid)]
        before = [d for d in student.days if d < on][-WINDOW:]
        after = [d for d in student.days if d > on][:WINDOW]
        assert len(before) == len(after) == WINDOW
        plan_pairs.append((student.rate(before), student.rate(after)))
    assert by_kind["plan"]["recorded"] is True
    assert by_kind["plan"]["students"] == len(plan_pairs) == 12
    assert by_kind["plan"]["before"] == pytest.approx(statistics.fmean(b for b, _ in plan_pairs))
    assert by_kind["plan"]["after"] == pytest.approx(statistics.fmean(a for _, a in plan_pairs))
    rows = district.sis_rows()
    letters: dict[str, date] = {}  # each student's first letter, as the SIS's letters log shows it
    by_notice: dict[str, dict[str, date]] = defaultdict(dict)  # and first letter of each notice type
    for log in district.notice_logs():
        if log["status"] == "sent":
            day, dcid = date.fromisoformat(log["sent_date"]), log["studentsdcid"]
            letters[dcid] = min(day, letters.get(dcid, day))
            by_notice[log["notice_type"]][dcid] = min(day, by_notice[log["notice_type"]].get(dcid, day))
    for task, kind, notice in (
        ("truancy_notification", "notice", "ca_truancy_notification"),
        ("attendance_outreach", "outreach", "ca_chronic_absence"),
    ):
        done_on: dict[str, date] = {}  # as the SIS shows it: officers' work and letters sent both close tasks
        for row in rows["U_TRUANCY_TASKS"]:
            if row["task_type"] == task and row["status"] == "done":
                day = date.fromisoformat(row["completed_date"])
                done_on[row["studentsdcid"]] = min(day, done_on.get(row["studentsdcid"], day))
        # a letter sent is the task done on its day: the notification (Cal. Educ. Code § 48260.5),
        # the chronic-absence outreach
        # a letter sent closes the task too; where both a letter and the officer closed it, the case
        # keeps whichever cycle read first, so for those students the stored case says which
        for dcid in by_notice[notice]:
            closed = district.case_of(dcid).completed_tasks.get(task)
            if closed is not None:
                done_on[dcid] = closed.on
        pairs = []
        for dcid, on in done_on.items():
            student = counted[int(dcid)]
            before = [d for d in student.days if d < on][-WINDOW:]
            after = [d for d in student.days if d > on][:WINDOW]
            if len(before) == WINDOW and len(after) == WINDOW:
                pairs.append((student.rate(before), student.rate(after)))
        row = by_kind[kind]
        assert len(pairs) >= 10, f"too few {kind}s measured for the test to mean anything"
        assert row["students"] == len(pairs)
        assert row["before"] == pytest.approx(statistics.fmean(b for b, _ in pairs))
        assert row["after"] == pytest.approx(statistics.fmean(a for _, a in pairs))
        assert row["ci_low"] < row["change"] < row["ci_high"]
    measured = []
    for dcid, on in letters.items():
        student = counted[int(dcid)]
        before = [d for d in student.days if d < on][-WINDOW:]
        after = [d for d in student.days if d > on][:WINDOW]
        if len(before) == WINDOW and len(after) == WINDOW:
            measured.append((student.rate(before), student.rate(after)))
    assert len(measured) >= 10, "too few letters measured for the test to mean anything"
    assert by_kind["letter"]["students"] == len(measured)
    assert by_kind["letter"]["after"] == pytest.approx(statistics.fmean(a for _, a in measured))
    by_language = [r for r in published["interventions"] if r["kind"] == "letter" and r["language"] != "all"]
    assert len(by_language) >= 2
    shown = [r["students"] for r in by_language if r["students"] is not None]
    assert sum(shown) <= len(measured)
    assert (
        sum(r["students"] is None for r in by_language) != 1
    )  # a lone withheld row is the total minus the rest
    referrals = published["sarb_48273"]["referrals"]
    made = len(work["sarb_referral"])
    assert [r["made"] for r in referrals if r["type"] == "sarb_referral"] == [made if made >= 10 else None]
    assert published["sarb_48273"]["petitions_requested"] is None


def test_the_files_are_private_the_run_is_logged_and_the_pdf_reads_and_renders(year: Any) -> None:
    district, published, out, _ = year
    html, pdf = out / "outcomes.html", out / "outcomes.pdf"
    assert oct(html.stat().st_mode & 0o777) == oct(0o600)
    assert oct(pdf.stat().st_mode & 0o777) == oct(0o600)
    assert oct(out.stat().st_mode & 0o777) == oct(0o700)
    engine = store_engine(district.settings)
    with engine.connect() as connection:
        kinds = [row.kind for row in connection.execute(select(access_log))]
    engine.dispose()
    assert "outcomes report" in kinds

    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Attendance outcomes, school year 2025-26" in text
    assert f"{published['district']['students']:,}" in text
    assert "Cal. Educ. Code § 48273" in text
    assert "Rates by school" in text  # the charts' own labels are text in the PDF
    folder = ARTIFACTS / "outcomes"
    folder.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(str(pdf))
    assert len(document) >= 2
    for index in range(len(document)):
        image = document[index].render(scale=1.2).to_pil()
        image.save(folder / f"outcomes-page-{index + 1}.png")
        low, high = image.convert("L").getextrema()
        assert high - low > 100, f"page {index + 1} is blank"
    assert "<svg" in html.read_text(encoding="utf-8")


def test_without_a_year_the_report_counts_the_latest_year_the_store_holds(year: Any, tmp_path: Path) -> None:
    """The acceptance call: no --year, no --as-of; today is after 2025-26, which the store holds."""
    district, published, _, _ = year
    command = [TRUANCY, "report", "outcomes", "--config", str(district.config), "--out", str(tmp_path / "r")]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    again = json.loads(done.stdout)
    assert (again["year"], again["as_of"]) == ("2025-26", LAST_SCHOOL_DAY.isoformat())
    assert again["district"] == published["district"]
    assert again["schools"] == published["schools"]


def test_a_bad_year_is_a_one_line_error(year: Any, tmp_path: Path) -> None:
    district, _, _, _ = year
    command = [TRUANCY, "report", "outcomes", "--config", str(district.config)]
    done = subprocess.run(
        [*command, "--year", "2025", "--out", str(tmp_path / "x"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["message"] == "school year '2025': expected YYYY-YY, e.g. 2025-26"
    assert not (tmp_path / "x").exists()
