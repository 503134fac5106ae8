"""TX, PA, IL and FL casework end to end against the sandbox, over real HTTP: the punitive step the
law forbids yet (TX truancy court referral before any § 25.0915(a-1) prevention measure; PA referral
or citation before the § 13-1333.1(d) SAIC; IL truancy hearing referral before the supportive
services and school resources of 105 ILCS 5/26-12(a); FL truancy petition before the child study
team's meeting and interventions, § 1003.26(1)(b)-(c)) is not opened; once the officer records the
conference, the plan and the referral in the SIS, the next cycle opens it and the court packet's
checklist is complete. Without them, or with one support missing, the packet names exactly the
missing items and the step stays unopened."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.test_packets_end_to_end import render, section_pages
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.cli import app
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import cases, students
from truancy.mappings.case import case_from_dict
from truancy.mappings.casework import CASEWORK_DIR, load_casework

pytestmark = pytest.mark.slow
TODAY = PINNED_AS_OF.isoformat()


@dataclass(frozen=True)
class StatePath:
    state: str
    designation: str
    escalation_task: str
    meeting: str
    form: str
    missing_without_casework: tuple[str, ...]
    left_out: tuple[str, ...] = ()
    """The records (``plan``, ``referral``) left out to show a support missing: the gate's test."""
    missing_without_support: tuple[str, ...] = ()
    not_casework: tuple[str, ...] = ()
    """Checklist items no officer record meets: the TX start-of-year notice (§ 25.095(a)) is a
    letter the daemon sends every family, which this test's cycles (without notices) never send
    (tests/daemon/test_family_notices_end_to_end.py sends it and finds the item met)."""


PATHS = [
    StatePath(
        "TX", "court_referral", "truancy_court_referral", "attendance_conference",
        "Behavior improvement plan",
        ("start_of_year_notice", "conference_requested", "behavior_plan", "services_referral"),
        not_casework=("start_of_year_notice",),
    ),
    StatePath(
        "PA", "habitually_truant", "habitual_truancy_referral", "saic",
        "School attendance improvement plan", ("saic_held", "saip", "improvement_program"),
    ),
    StatePath(
        "IL", "chronic_truant", "truancy_hearing_referral", "truancy_conference",
        "Truancy intervention plan", ("conference_record", "supportive_services", "school_resources"),
        ("referral",), ("supportive_services",),
    ),
    StatePath(
        "FL", "pattern_of_nonattendance", "truancy_petition", "child_study_team",
        "Child study team attendance intervention plan",
        ("child_study_team_meeting", "intervention_plan", "services_referral"),
        ("plan", "referral"), ("intervention_plan", "services_referral"),
    ),
]  # fmt: skip
GATED = [p for p in PATHS if p.missing_without_support]


def _designated(district: District, designation: str) -> str:
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        for row in connection.execute(select(cases.c.student_id, cases.c.state)).all():
            if designation in case_from_dict(row.state).designations:
                return str(
                    connection.execute(
                        select(students.c.sis_ref).where(students.c.student_id == row.student_id)
                    ).scalar_one()
                )
    raise AssertionError(f"the sandbox district has no student designated {designation}")


def _task_types(district: District, dcid: str) -> set[str]:
    return {t["task_type"] for t in district.sis_rows()["U_TRUANCY_TASKS"] if t["studentsdcid"] == dcid}


def _court_packet(district: District, dcid: str, out: Path) -> dict[str, object]:
    arguments = ["packet", "build", "-c", str(district.config), "--student", dcid, "--kind", "court"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.output)
    return report


def _sync_once(district: District) -> None:
    result = CliRunner().invoke(app, ["sync", "--once", "-c", str(district.config), "--json"])
    assert result.exit_code == 0, result.output


def _record(district: District, dcid: str, path: StatePath, *, leave_out: tuple[str, ...] = ()) -> None:
    """The officer's conference (a no-show after a mailed invitation), signed plan and started
    referral, in the SIS's own tables, but for the records ``leave_out`` names."""
    attempts = json.dumps([{"on": "2026-06-01", "channel": "mail", "purpose": "invitation"}])
    with district.powerschool() as sis:
        sis.insert_row(
            "U_TRUANCY_CONFERENCES",
            {
                "studentsdcid": dcid,
                "meeting": path.meeting,
                "starts_at": f"{TODAY}T09:00",
                "place": "Office",
                "outcome": "no_show",
                "held_date": TODAY,
                "attempts": attempts,
            },
        )
        if "plan" not in leave_out:
            sis.insert_row(
                "U_TRUANCY_PLANS",
                {
                    "studentsdcid": dcid,
                    "form": path.form,
                    "start_date": "2026-05-04",
                    "review_date": "2026-06-03",
                    "goals": "Attend every day",
                    "target_rate": "90",
                    "signed_school": "2026-05-04",
                },
            )
        if "referral" not in leave_out:
            sis.insert_row(
                "U_TRUANCY_REFERRALS",
                {"studentsdcid": dcid, "partner": "mentors", "service": "mentoring", "status": "started",
                 "made_date": "2026-05-05"},
            )  # fmt: skip


@pytest.mark.parametrize("path", PATHS, ids=[p.state for p in PATHS])
def test_no_punitive_step_before_the_supports_then_a_complete_court_packet(
    tmp_path: Path, path: StatePath
) -> None:
    with sandbox_district(tmp_path, state=path.state) as district:
        assert district.sync().ok
        dcid = _designated(district, path.designation)
        assert path.escalation_task not in _task_types(district, dcid)
        before = _court_packet(district, dcid, tmp_path / "before.pdf")
        assert before["missing"] == list(path.missing_without_casework)
        render((tmp_path / "before.pdf").read_bytes(), f"{path.state.lower()}-court-missing")

        _record(district, dcid, path)
        assert district.sync().ok
        assert path.escalation_task in _task_types(district, dcid)
        out = tmp_path / "court.pdf"
        after = _court_packet(district, dcid, out)
        assert after["missing"] == list(path.not_casework)
        reader = PdfReader(io.BytesIO(out.read_bytes()))
        checklist = reader.pages[section_pages(reader)["Checklist"]].extract_text()
        assert ("Missing" in checklist) == bool(path.not_casework)
        assert render(out.read_bytes(), f"{path.state.lower()}-court-complete")


@pytest.mark.parametrize("path", GATED, ids=[p.state for p in GATED])
def test_with_a_support_missing_the_punitive_step_stays_unopened_and_the_packet_names_it(
    tmp_path: Path, path: StatePath
) -> None:
    """IL 26-12(a): the conference and the plan on record but no service provided; FL: the child
    study team met but no intervention is on record."""
    with sandbox_district(tmp_path, state=path.state) as district:
        assert district.sync().ok
        dcid = _designated(district, path.designation)
        _record(district, dcid, path, leave_out=path.left_out)
        assert district.sync().ok
        assert path.escalation_task not in _task_types(district, dcid)
        out = tmp_path / "court.pdf"
        report = _court_packet(district, dcid, out)
        assert report["missing"] == list(path.missing_without_support)
        cover = " ".join(PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text().split())
        escalation = load_casework(path.state).escalation(path.escalation_task)
        assert escalation is not None
        assert escalation.citation in cover
        render(out.read_bytes(), f"{path.state.lower()}-court-support-missing")


def test_tx_a_recorded_homelessness_bars_the_court_referral_even_with_measures(tmp_path: Path) -> None:
    """§ 25.0915(a-3): no truancy court referral where the school determined the truancy results
    from homelessness; the packet's cover says why."""
    path = PATHS[0]
    with sandbox_district(tmp_path, state="TX") as district:
        assert district.sync().ok
        dcid = _designated(district, path.designation)
        _record(district, dcid, path)
        circumstance = {"studentsdcid": dcid, "kind": "homelessness", "recorded_date": TODAY}
        with district.powerschool() as sis:
            sis.insert_row("U_TRUANCY_CIRCUMSTANCES", circumstance)
        assert district.sync().ok
        assert path.escalation_task not in _task_types(district, dcid)
        out = tmp_path / "court.pdf"
        _court_packet(district, dcid, out)
        cover = " ".join(PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text().split())
        assert f"homelessness recorded {TODAY}" in cover
        assert "Tex. Educ. Code § 25.0915(a-1), (a-3), (c)" in cover


def test_the_districts_own_casework_pack_is_the_one_the_cycle_gates_by(tmp_path: Path) -> None:
    """[casework] pack: an IL district that also wants the conference held before a hearing
    referral; the plan and the service on record are then not enough, the conference opens it.
    The cycles after the first run as `truancy sync --once`, the command a district schedules."""
    path = PATHS[2]
    shipped = (CASEWORK_DIR / "il.yaml").read_text(encoding="utf-8")
    anchor = "  - task: truancy_hearing_referral\n    citation: 105 ILCS 5/26-12(a)\n    requires:\n"
    own = anchor + (
        "      - id: conference_held\n"
        "        label: Truancy intervention conference held (district policy)\n"
        "        citation: 105 ILCS 5/26-13 (district policy)\n"
        "        conference: {meeting: truancy_conference, outcomes: [held]}\n"
    )
    (tmp_path / "casework.yaml").write_text(shipped.replace(anchor, own), encoding="utf-8")
    with sandbox_district(
        tmp_path, state="IL", extra_toml='\n[casework]\npack = "casework.yaml"\n'
    ) as district:
        assert district.sync().ok
        dcid = _designated(district, path.designation)
        _record(district, dcid, path)  # the conference is a no-show: the shipped pack would open the step
        _sync_once(district)
        assert path.escalation_task not in _task_types(district, dcid)
        with district.powerschool() as sis:
            held = {"studentsdcid": dcid, "meeting": path.meeting, "outcome": "held", "held_date": TODAY}
            sis.insert_row("U_TRUANCY_CONFERENCES", held)
        _sync_once(district)
        assert path.escalation_task in _task_types(district, dcid)
