"""Notices and guardian contacts are purged by their retention periods, with their PDFs and
delivery rows; a student's records stay while the student has an open case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select

from truancy.daemon.files import private_dir, write_private
from truancy.daemon.invitations_schema import invitation_deliveries
from truancy.daemon.notices_schema import guardian_contacts, notice_deliveries, notices
from truancy.daemon.purge import purge
from truancy.daemon.schema import cases
from truancy.daemon.settings import RetentionSettings
from truancy.daemon.store import upgrade

TODAY = date(2026, 12, 1)


def _notice(student: str, key: str, created: datetime, pdf: str) -> dict[str, object]:
    return {
        "notice_id": key, "student_id": student, "sis_ref": "1", "school_year": "2025-26",
        "notice_type": "ca_truancy_notification", "trigger_on": created.date(), "language": "en",
        "wanted_language": "en", "status": "sent", "facts": {}, "letter_text": "", "pdf_path": pdf,
        "created_at": created,
    }  # fmt: skip


def test_old_notices_go_with_their_pdf_and_evidence_and_open_cases_keep_theirs(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    folder = private_dir(tmp_path / "letters")
    old = datetime(2025, 9, 1, tzinfo=UTC)
    recent = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(cases).values(
                student_id="open", school_year="2026-27", status="open", tier=None, state={}, updated_cycle=1
            )
        )
        for student, key, created in (
            ("gone", "a" * 40, old),
            ("open", "b" * 40, old),
            ("gone", "c" * 40, recent),
        ):
            write_private(folder / f"{key[:4]}.pdf", b"%PDF-1.7")
            connection.execute(
                insert(notices).values(_notice(student, key, created, f"letters/{key[:4]}.pdf"))
            )
            connection.execute(
                insert(notice_deliveries).values(
                    notice_id=key, recipient="g1", channel="email", state="sent", student_id=student
                )
            )
            connection.execute(
                insert(guardian_contacts).values(
                    student_id=student, contact_id=f"g-{key[:4]}", name="", relationship="",
                    receives_mail=True,
                    contact_restriction="", address=[], email="", phone="", language="en", read_at=created,
                )
            )  # fmt: skip
    retention = RetentionSettings(notices_days=365, contacts_days=30)
    report = purge(engine, retention, today=TODAY, config_dir=tmp_path)
    by_kind = {k.kind: k for k in report.kinds}
    assert by_kind["notices"].records == 1
    assert by_kind["notices"].files == 1
    assert by_kind["contacts"].records == 1
    assert sorted(p.name for p in folder.iterdir()) == ["bbbb.pdf", "cccc.pdf"]
    with engine.connect() as connection:
        assert set(connection.execute(select(notices.c.notice_id)).scalars()) == {"b" * 40, "c" * 40}
        assert set(connection.execute(select(notice_deliveries.c.notice_id)).scalars()) == {
            "b" * 40,
            "c" * 40,
        }
        assert connection.execute(select(func.count()).select_from(guardian_contacts)).scalar_one() == 2


def test_old_conference_invitations_go_with_their_printed_letter_after_the_notices_period(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    folder = private_dir(tmp_path / "letters")
    old = datetime(2025, 9, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(cases).values(
                student_id="open", school_year="2026-27", status="open", tier=None, state={}, updated_cycle=1
            )
        )
        for student in ("gone", "open"):
            write_private(folder / f"invitation-{student}.pdf", b"%PDF-1.7")
            connection.execute(
                insert(invitation_deliveries).values(
                    record_id=f"row-{student}", purpose="invitation", channel="print", household="g1",
                    student_id=student, sis_ref="1", school_id="100", school_year="2025-26", state="sent",
                    sent_on=old.date(), language="en", wanted_language="en", batch_id="print-2025-09-01",
                    pdf_path=f"letters/invitation-{student}.pdf", created_at=old,
                )
            )  # fmt: skip
    report = purge(engine, RetentionSettings(notices_days=365), today=TODAY, config_dir=tmp_path)
    (notices_kind,) = [k for k in report.kinds if k.kind == "notices"]
    assert (notices_kind.records, notices_kind.files) == (1, 1)
    assert [p.name for p in folder.iterdir()] == ["invitation-open.pdf"]
    with engine.connect() as connection:
        assert list(connection.execute(select(invitation_deliveries.c.student_id)).scalars()) == ["open"]
