"""Build a student's referral packet from the state store and the SIS, and write it privately.

``truancy packet build`` calls :func:`build_student_packet`. The case, its history, the attendance
and the notices come from the store; what the officer recorded (conferences, plans, referrals,
their own notes) comes from the SIS through the plugin: notes from the truancy rows it reads back,
casework records from its optional ``casework_file`` capability (a plugin without it contributes
none, and the checklist says so). A packet is built for any student with a case, complete or not:
what is missing is the checklist's answer, not an error.

The file goes to the district's packets folder (``[casework] packets_dir``) or ``--out``, private
(:mod:`truancy.daemon.files`); never to the status page. Each build is one ``access_log`` row and
one ``packets`` row (where it is, for ``retention.packets_days``).

An officer may also ask for a packet in the SIS (a U_TRUANCY_PACKETS row, status ``requested``):
:class:`PacketCycle` builds it in the next cycle and answers the row with the file's name, or with
why it was refused (no case, or a kind the state's pack does not have).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, and_, delete, insert, inspect, select

from truancy.daemon.access_log import record_access
from truancy.daemon.casework import district_casework
from truancy.daemon.files import Privacy, private_dir, write_private
from truancy.daemon.packets_schema import packets
from truancy.daemon.runtime import Runtime, privacy
from truancy.daemon.schema import attendance, calendar_days, cases, enrollments, students
from truancy.daemon.settings import Settings, resolve_path
from truancy.documents.packet import (
    DesignationPage,
    HistoryRecord,
    NoteRecord,
    NoticeRecord,
    PacketFacts,
    build_packet,
)
from truancy.mappings.case import CaseState, case_from_dict
from truancy.mappings.casework import CaseworkPack, PacketKind
from truancy.mappings.casework_directory import load_directory
from truancy.mappings.casework_readiness import (
    PlanProgress,
    checklist,
    deadlines,
    escalation_blockers,
    plan_progress,
)
from truancy.mappings.casework_records import CaseFile, PacketRequest
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.writes import AUTHOR, WriteKind
from truancy.plugins.base import SisPlugin

DAY_SHARE = {"present": 1.0, "tardy": 1.0, "excused": 0.0, "unexcused": 0.0, "suspension": 0.0}
CaseFileSource = Callable[[str], CaseFile]


class PacketError(ValueError):
    """A packet that cannot be built as asked; the message says what to change (never whose)."""


def _student(engine: Engine, sis_ref: str) -> Mapping[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            select(students).where((students.c.sis_ref == sis_ref) | (students.c.student_id == sis_ref))
        ).first()
    if row is None:
        raise PacketError("no student with that SIS id in the store; run a sync first, or check the id")
    return dict(row._mapping)


def _case(engine: Engine, student_id: str) -> CaseState:
    with engine.connect() as connection:
        # the latest school year's case: earlier years' stay as history
        state = connection.execute(
            select(cases.c.state)
            .where(cases.c.student_id == student_id)
            .order_by(cases.c.school_year.desc())
            .limit(1)
        ).scalar()
    if state is None:
        raise PacketError("that student has no truancy case, so there is no packet to build")
    return case_from_dict(state)


def days_attended(engine: Engine, student_id: str, school_id: str | None, today: date) -> dict[date, str]:
    """Each enrolled school day up to today with what it counted as (present when no mark)."""
    with engine.connect() as connection:
        spans = connection.execute(
            select(enrollments.c.school_id, enrollments.c.begin_date, enrollments.c.end_date).where(
                and_(enrollments.c.student_id == student_id)
            )
        ).all()
        schools = {span.school_id for span in spans} | ({school_id} if school_id else set())
        calendar = connection.execute(
            select(calendar_days.c.school_id, calendar_days.c.day).where(
                calendar_days.c.school_id.in_(schools)
            )
        ).all()
        marks = connection.execute(
            select(attendance.c.day, attendance.c.category, attendance.c.minutes_absent).where(
                attendance.c.student_id == student_id
            )
        ).all()
    enrolled = {
        row.day
        for row in calendar
        if row.day <= today
        and any(
            s.school_id == row.school_id
            and s.begin_date <= row.day
            and (s.end_date is None or row.day <= s.end_date)
            for s in spans
        )
    }
    days = dict.fromkeys(sorted(enrolled), "present")
    for mark in marks:
        if mark.day in days and mark.category:
            part = mark.category == "unexcused" and mark.minutes_absent
            days[mark.day] = "part_unexcused" if part else mark.category
    return days


def _calendar(engine: Engine, school_id: str | None) -> SchoolCalendar:
    with engine.connect() as connection:
        days = connection.execute(
            select(calendar_days.c.day).where(calendar_days.c.school_id == (school_id or "")).order_by("day")
        ).scalars()
        return SchoolCalendar(school_id or "", tuple(days))


def _notices(engine: Engine, student_id: str) -> list[NoticeRecord]:
    with engine.connect() as connection:
        # the notices tables (migration 0007) are read as the store has them, so a store without
        # family notices yet builds a packet all the same
        if not inspect(connection).has_table("notices"):
            return []
        notices = Table("notices", MetaData(), autoload_with=connection)
        notice_deliveries = Table("notice_deliveries", MetaData(), autoload_with=connection)
        rows = connection.execute(select(notices).where(notices.c.student_id == student_id)).all()
        found = []
        for row in rows:
            deliveries = connection.execute(
                select(notice_deliveries).where(notice_deliveries.c.notice_id == row.notice_id)
            ).all()
            evidence = "; ".join(
                f"{d.channel} {d.state}"
                + (f" message {d.message_id}" if d.message_id else "")
                + (f" batch {d.batch_id}" if d.batch_id else "")
                + (f" accepted {d.accepted_at:%Y-%m-%d %H:%M} UTC" if d.accepted_at else "")
                for d in deliveries
            )
            channels = ", ".join(sorted({d.channel for d in deliveries}))
            sent = row.sent_on.isoformat() if row.sent_on else ""
            title = row.notice_type.replace("_", " ")
            found.append(NoticeRecord(title, "", row.status, sent, channels, evidence or "no delivery yet"))
        for row in _family_rows(connection, student_id):
            sent = row.sent_on.isoformat() if row.sent_on else ""
            evidence = f"print file {Path(row.print_file).name}" if row.print_file else "not printed yet"
            title = f"{row.notice_type.replace('_', ' ')} (family letter)"
            found.append(NoticeRecord(title, "", row.status, sent, "print", evidence))
        return found


def _family_rows(connection: Any, student_id: str) -> list[Any]:
    """The family letters (migration 0013) covering the student, as the store has them."""
    if not inspect(connection).has_table("family_notices"):
        return []
    letters = Table("family_notices", MetaData(), autoload_with=connection)
    covered = Table("family_notice_students", MetaData(), autoload_with=connection)
    return list(
        connection.execute(
            select(letters)
            .join(covered, covered.c.notice_id == letters.c.notice_id)
            .where(covered.c.student_id == student_id)
        ).all()
    )


def _notices_sent(engine: Engine, student_id: str, school_year: str) -> dict[str, date]:
    """Notice type -> the day a letter of it went to the student's family this school year, so the
    checklist's notice items (TX § 25.095(a)) read what the daemon sent."""
    sent: dict[str, date] = {}
    with engine.connect() as connection:
        if inspect(connection).has_table("notices"):
            notices = Table("notices", MetaData(), autoload_with=connection)
            for notice_type, on in connection.execute(
                select(notices.c.notice_type, notices.c.sent_on).where(
                    notices.c.student_id == student_id,
                    notices.c.school_year == school_year,
                    notices.c.status == "sent",
                )
            ):
                sent[notice_type] = on
        for row in _family_rows(connection, student_id):
            if row.status == "sent" and row.school_year == school_year:
                sent[row.notice_type] = row.sent_on
    return sent


def _officer_notes(plugin: SisPlugin, sis_ref: str) -> list[NoteRecord]:
    found = []
    for row in plugin.read_back():
        author = row.columns.get("author", "")
        if row.kind is WriteKind.NOTE and row.sis_ref == sis_ref and author and author != AUTHOR:
            try:
                on = date.fromisoformat(row.columns.get("note_date", ""))
            except ValueError:
                continue
            found.append(
                NoteRecord(on, row.columns.get("category", ""), author, row.columns.get("note_text", ""))
            )
    return sorted(found, key=lambda note: note.on)


def packet_facts(
    engine: Engine,
    plugin: SisPlugin,
    pack: CaseworkPack,
    *,
    sis_ref: str,
    kind: PacketKind,
    district: str,
    today: date,
    case_file: CaseFileSource | None = None,
    partner_names: Mapping[str, str] | None = None,
) -> PacketFacts:
    """Everything the packet shows for the student the SIS knows as ``sis_ref``; ``partner_names``
    are the district directory's names for the partners referrals name."""
    if kind not in pack.packets:
        kinds = ", ".join(sorted(pack.packets))
        raise PacketError(f"the {pack.state} casework pack has no {kind} packet; choose one of: {kinds}")
    student = _student(engine, sis_ref)
    case = _case(engine, student["student_id"])
    ref = student["sis_ref"] or sis_ref
    file = case_file(ref) if case_file is not None else CaseFile()
    file = replace(file, notices_sent=_notices_sent(engine, student["student_id"], case.school_year))
    days = days_attended(engine, student["student_id"], student["school_id"], today)
    attended = {day: DAY_SHARE.get(category, 0.5) for day, category in days.items()}
    progress: dict[str, PlanProgress] = {
        plan.record_id: plan_progress(plan, attended, today) for plan in file.plans
    }
    blockers = []
    for escalation in pack.escalations:
        blockers += escalation_blockers(escalation, case, file, today, pack.plan.required_signatures)
    packet = pack.packets[kind]
    return PacketFacts(
        district=district,
        title=packet.title,
        citation=packet.citation,
        student_ref=ref,
        school=student["school_id"] or "",
        grade=student["grade"] or "",
        generated_on=today,
        school_year=case.school_year,
        tier=case.tier or "",
        checklist=checklist(pack, kind, case, file, progress),
        deadlines=deadlines(pack, case, _calendar(engine, student["school_id"]), today),
        blockers=blockers,
        days=days,
        designations=[
            DesignationPage(held.label, held.citation, held.met_on, held.retracted_on, _evidence(case, name))
            for name, held in case.designations.items()
        ],
        notices=_notices(engine, student["student_id"]),
        conferences=file.conferences,
        plans=[(plan, progress[plan.record_id]) for plan in file.plans],
        referrals=file.referrals,
        partner_names=dict(partner_names or {}),
        notes=_officer_notes(plugin, ref),
        history=[HistoryRecord(event.on, event.kind, event.detail) for event in case.history],
    )


def _evidence(case: CaseState, designation: str) -> str:
    """The designation's own notes in the case history (dates, counts and the statute's words)."""
    lines = [
        e.detail
        for e in case.history
        if e.designation == designation and e.kind in ("designated", "reported")
    ]
    return " ".join(lines)


def write_packet(pdf: bytes, out: Path, privacy: Privacy) -> Path:
    """Write the packet privately (its folder too) and return where it is."""
    private_dir(out.parent, privacy)
    write_private(out, pdf, privacy)
    return out


def build_student_packet(
    engine: Engine,
    plugin: SisPlugin,
    pack: CaseworkPack,
    *,
    sis_ref: str,
    kind: PacketKind,
    district: str,
    today: date,
    out: Path,
    privacy: Privacy,
    case_file: CaseFileSource | None = None,
    requested_in: str = "cli",
    partner_names: Mapping[str, str] | None = None,
) -> tuple[Path, PacketFacts]:
    facts = packet_facts(
        engine, plugin, pack, sis_ref=sis_ref, kind=kind, district=district, today=today,
        case_file=case_file, partner_names=partner_names,
    )  # fmt: skip
    path = write_packet(build_packet(facts), out, privacy)
    record_access(engine, "packet build", students=1)
    _record_built(engine, _student(engine, sis_ref)["student_id"], kind, path, today, requested_in)
    return path, facts


def _record_built(
    engine: Engine, student_id: str, kind: str, path: Path, today: date, requested_in: str
) -> None:
    packet_id = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:40]
    row = {"packet_id": packet_id, "student_id": student_id, "kind": kind, "built_on": today}
    with engine.begin() as connection:
        connection.execute(delete(packets).where(packets.c.packet_id == packet_id))
        connection.execute(insert(packets).values(**row, path=str(path.resolve()), requested_in=requested_in))


class PacketCycle:
    """Builds the packets officers asked for in the SIS and answers each request row."""

    def __init__(
        self,
        engine: Engine,
        plugin: SisPlugin,
        pack: CaseworkPack,
        *,
        district: str,
        folder: Path,
        privacy: Privacy,
        requests: Callable[[], list[PacketRequest]],
        answer: Callable[[str, Mapping[str, str]], None],
        partner_names: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.plugin = plugin
        self.pack = pack
        self.district = district
        self.folder = folder
        self.privacy = privacy
        self.requests = requests
        self.answer = answer
        self.partner_names = partner_names

    def run(self, today: date) -> int:
        """Build every requested packet; returns how many were built."""
        built = 0
        case_file: CaseFileSource | None = getattr(self.plugin, "casework_file", None)
        for request in self.requests():
            name = f"{request.kind}-{request.sis_ref}-{today.isoformat()}-{request.record_id}.pdf"
            if request.kind not in ("sarb", "court", "saic"):
                self.answer(
                    request.record_id, {"status": "refused", "detail": "kind must be sarb, court or saic"}
                )
                continue
            kind: PacketKind = request.kind  # type: ignore[assignment]  # checked just above
            try:
                _, facts = build_student_packet(
                    self.engine, self.plugin, self.pack, sis_ref=request.sis_ref, kind=kind,
                    district=self.district, today=today, out=self.folder / name, privacy=self.privacy,
                    case_file=case_file, requested_in="sis", partner_names=self.partner_names,
                )  # fmt: skip
            except PacketError as exc:
                self.answer(request.record_id, {"status": "refused", "detail": str(exc)})
                continue
            missing = "; ".join(f"{item.label} ({item.citation})" for item in facts.missing)
            detail = f"missing: {missing}" if missing else "checklist complete"
            answer = {
                "status": "built",
                "file_name": name,
                "built_date": today.isoformat(),
                "detail": detail[:4000],
            }
            self.answer(request.record_id, answer)
            built += 1
        return built


def packet_cycle(rt: Runtime) -> PacketCycle | None:
    """The cycle's packet builds, or None: no casework pack for the state, or a plugin without requests."""
    settings = rt.settings
    pack = district_casework(settings)
    requests = getattr(rt.plugin, "packet_requests", None)
    answer = getattr(rt.plugin, "record_packet", None)
    if pack is None or requests is None or answer is None:
        return None
    return PacketCycle(
        rt.engine,
        rt.plugin,
        pack,
        district=settings.district.name,
        folder=resolve_path(settings, settings.casework.packets_dir),
        privacy=privacy(rt.settings),
        requests=requests,
        answer=answer,
        partner_names=partner_names(settings),
    )


def partner_names(settings: Settings) -> dict[str, str]:
    """The directory's partner names by id (``[casework] directory``), or none configured."""
    source = settings.casework.directory
    if source is None:
        return {}
    directory = load_directory(resolve_path(settings, source))
    return {partner.id: partner.name for partner in directory.partners}
