"""A complete CA SARB packet laid out from a full case file: every checklist item met, the
conference, plan with progress and referral shown; text extracted and pages rendered."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from pypdf import PdfReader

from tests.daemon.test_packets_end_to_end import render
from truancy.documents.packet import PacketFacts, build_packet
from truancy.mappings.case import CaseState, HeldDesignation
from truancy.mappings.casework import load_casework
from truancy.mappings.casework_readiness import checklist, plan_progress
from truancy.mappings.casework_records import Attempt, CaseFile, Conference, Plan, Referral

MET = date(2026, 10, 1)
TODAY = date(2026, 11, 20)


def test_complete_sarb_packet_shows_every_item_met_with_its_citation() -> None:
    days = {
        MET + timedelta(days=i): "present" for i in range(-30, 50) if (MET + timedelta(days=i)).weekday() < 5
    }
    days.update({d: "unexcused" for d in list(days)[:6]})
    held = {"truant": HeldDesignation("Truant", "Cal. Educ. Code § 48260", (MET,))}
    held["habitual_truant"] = HeldDesignation("Habitual truant", "Cal. Educ. Code § 48262", (MET,))
    case = CaseState("s1", "2026-27", "p", "open", "sarb", held, {"truancy_notification_sent": MET}, ())
    plan = Plan(
        "p1",
        "SART attendance contract",
        date(2026, 10, 9),
        date(2026, 11, 6),
        goals="95% attendance",
        signatures={"school": date(2026, 10, 9), "parent": date(2026, 10, 9)},
        target_rate=0.9,
    )
    conference = Conference(
        "c1",
        "parent_conference",
        datetime(2026, 10, 8, 15, 30),
        "Room 4",
        "held",
        date(2026, 10, 8),
        ("parent", "pupil"),
        True,
        "daily check-in",
        (Attempt(date(2026, 10, 2), "email"),),
    )
    file = CaseFile(
        (conference,), (plan,), (Referral("r1", "frc", "counselling", "accepted", date(2026, 10, 9)),)
    )
    progress = plan_progress(plan, {d: 1.0 if c == "present" else 0.0 for d, c in days.items()}, TODAY)
    pack = load_casework("CA")
    items = checklist(pack, "sarb", case, file, {"p1": progress})
    facts = PacketFacts(
        "Sandbox USD",
        "SARB referral",
        "Cal. Educ. Code § 48263",
        "10005",
        "101",
        "7",
        TODAY,
        "2026-27",
        "sarb",
        items,
        days=days,
        conferences=file.conferences,
        plans=[(plan, progress)],
        referrals=file.referrals,
        partner_names={"frc": "Family Resource Center"},
    )
    pdf = build_packet(facts)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Ready: all 6 checklist items are on record." in " ".join(text.split())
    assert "Missing" not in reader.pages[1].extract_text()
    assert "Family Resource Center" in text
    assert "on track" in text
    assert render(pdf, "ca-sarb-complete")
