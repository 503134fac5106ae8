"""Casework end to end against the sandbox (CA), over real HTTP: the officer records a conference,
a signed SART contract and a referral in the SIS's U_TRUANCY tables; the next cycle makes the
habitual truant (§ 48262's conference effort is on record) and the SARB packet's checklist is
complete. The same path with the plan left out yields a packet naming exactly that item, and before
the conference no SARB referral task exists (the law forbids the referral yet)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.officer_cases import conference_pending
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.test_packets_end_to_end import render, section_pages
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.casework_progress import progress_cycle
from truancy.daemon.cli import app
from truancy.daemon.packets import packet_cycle
from truancy.daemon.packets_schema import packets as packet_rows
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime

pytestmark = pytest.mark.slow
TODAY = PINNED_AS_OF.isoformat()
PARTNERS = """partners:
  - id: frc
    name: Family Resource Center
    services: [counselling, housing, food]
    languages: [en, es]
    ages: {min: 5, max: 18}
    contact: {phone: "555-0100"}
    consent_required: true
"""


def _build(district: District, dcid: str, out: Path) -> dict[str, object]:
    arguments = ["packet", "build", "-c", str(district.config), "--student", dcid, "--kind", "sarb"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.output)
    return report


def _record_casework(district: District, dcid: str, *, plan: bool) -> None:
    """What the officer records on the student's page: the letter sent, the conference held after an
    emailed invitation, the plan (optionally) and a referral to counselling."""
    tasks = [t for t in district.sis_rows()["U_TRUANCY_TASKS"] if t["studentsdcid"] == dcid]
    with district.powerschool() as sis:
        for task in tasks:
            if (
                task["task_type"] in ("truancy_notification", "parent_conference")
                and task["status"] == "open"
            ):
                outcome = "sent_mail" if task["task_type"] == "truancy_notification" else "held"
                done = {"status": "done", "outcome": outcome, "completed_date": TODAY}
                sis.update_row("U_TRUANCY_TASKS", task["id"], done)
        attempts = [{"on": "2026-06-01", "channel": "email", "purpose": "invitation"}]
        sis.insert_row(
            "U_TRUANCY_CONFERENCES",
            {
                "studentsdcid": dcid,
                "meeting": "parent_conference",
                "starts_at": f"{TODAY}T15:30",
                "place": "Room 4",
                "outcome": "held",
                "held_date": TODAY,
                "attendees": "parent\npupil\ncounselor",
                "interpreter": "yes",
                "agreed": "Daily check-in with the counselor",
                "attempts": json.dumps(attempts),
            },
        )
        if plan:
            sis.insert_row(
                "U_TRUANCY_PLANS",
                {
                    "studentsdcid": dcid,
                    "form": "SART attendance contract",
                    "start_date": "2026-05-01",
                    "review_date": "2026-06-03",
                    "goals": "Attend every day",
                    "supports": "Bus pass",
                    "responsible": "Counselor",
                    "target_rate": "90",
                    "signed_school": "2026-05-01",
                    "signed_parent": "2026-05-01",
                },
            )
        sis.insert_row(
            "U_TRUANCY_REFERRALS",
            {
                "studentsdcid": dcid,
                "partner": "frc",
                "service": "counselling",
                "status": "accepted",
                "made_date": "2026-05-02",
                "status_date": "2026-05-09",
            },
        )


@pytest.mark.parametrize("plan", [True, False], ids=["complete", "plan-missing"])
def test_ca_first_letter_to_conference_plan_referral_and_a_sarb_packet(tmp_path: Path, plan: bool) -> None:
    (tmp_path / "partners.yaml").write_text(PARTNERS, encoding="utf-8")
    with sandbox_district(tmp_path, extra_toml='\n[casework]\ndirectory = "partners.yaml"\n') as district:
        assert district.sync().ok
        task, _case = conference_pending(district)
        dcid = task["studentsdcid"]
        types = {t["task_type"] for t in district.sis_rows()["U_TRUANCY_TASKS"] if t["studentsdcid"] == dcid}
        assert "sarb_referral" not in types  # no SARB referral before the § 48262 conference effort
        before = _build(district, dcid, tmp_path / "before.pdf")
        assert "conference_attempts" in before["missing"]  # type: ignore[operator]

        _record_casework(district, dcid, plan=plan)
        assert district.sync().ok
        assert "habitual_truant" in district.case_of(dcid).designations
        types = {t["task_type"] for t in district.sis_rows()["U_TRUANCY_TASKS"] if t["studentsdcid"] == dcid}
        assert "sarb_referral" in types

        out = tmp_path / "sarb.pdf"
        report = _build(district, dcid, out)
        assert report["missing"] == ([] if plan else ["sart_contract"])
        assert report["complete"] is plan
        pdf = out.read_bytes()
        reader = PdfReader(io.BytesIO(pdf))
        sections = section_pages(reader)
        text = reader.pages[sections["Checklist"]].extract_text()
        assert ("Missing" in text) is not plan
        conferences = reader.pages[sections["Conferences"]].extract_text()
        assert "2026-06-01 invitation by email" in conferences
        assert "Daily check-in with the counselor" in conferences
        plans = reader.pages[sections["Attendance improvement plans"]].extract_text()
        assert ("SART attendance contract" in plans) is plan
        referrals = reader.pages[sections["Referrals to services"]].extract_text()
        assert "Family Resource Center" in referrals  # the directory's name for partner frc
        assert render(pdf, f"ca-sarb-e2e-{'complete' if plan else 'plan-missing'}")


def test_a_packet_requested_on_the_sis_page_is_built_by_the_next_cycle(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        task, _case = conference_pending(district)
        dcid = task["studentsdcid"]
        _record_casework(district, dcid, plan=True)
        with district.powerschool() as sis:
            asked = sis.insert_row(
                "U_TRUANCY_PACKETS",
                {"studentsdcid": dcid, "kind": "sarb", "requested_date": TODAY, "status": "requested"},
            )
            refused = sis.insert_row(
                "U_TRUANCY_PACKETS", {"studentsdcid": dcid, "kind": "appeal", "status": "requested"}
            )
        with runtime(district.settings) as rt:
            packets = packet_cycle(rt)
            assert packets is not None
            progress = progress_cycle(rt)
            assert progress is not None
            pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, packets=packets, progress=progress)
            assert pipeline.run_cycle(today=PINNED_AS_OF).ok
            assert progress.run(PINNED_AS_OF) == 0  # measured once; unchanged, not written again
            with rt.engine.connect() as connection:
                stored = connection.execute(select(packet_rows)).all()
        with district.powerschool() as sis:
            plans = [p for page in sis.iter_table("U_TRUANCY_PLANS") for p in page]
            (plan,) = [p for p in plans if p["studentsdcid"] == dcid]
            row = sis.get_row("U_TRUANCY_PACKETS", asked)
            refusal = sis.get_row("U_TRUANCY_PACKETS", refused)
        assert row is not None
        assert refusal is not None
        assert row["status"] == "built"
        assert " school days since 2026-05-01, against " in plan["progress"]
        assert plan["progress"].endswith(("on track (target 90%)", "off track (target 90%)"))
        assert row["detail"] == "checklist complete"
        assert refusal["status"] == "refused"
        path = district.config.parent / "packets" / row["file_name"]
        assert path.stat().st_mode & 0o077 == 0
        assert PdfReader(path).pages[0].extract_text().startswith("Cover sheet")
        assert [(r.kind, r.requested_in, Path(r.path)) for r in stored] == [("sarb", "sis", path.resolve())]
        # a second cycle builds nothing more: the request is answered
        with runtime(district.settings) as rt:
            again = packet_cycle(rt)
            assert again is not None
            assert again.run(PINNED_AS_OF) == 0
