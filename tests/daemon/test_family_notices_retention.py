"""Family letters are purged by ``retention.family_notices_days`` with the record of the students
they cover; a letter covering a student with an open case stays; a print file goes with the last
letter it holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from truancy.daemon.family_notices_schema import family_notice_students, family_notices
from truancy.daemon.files import private_dir, write_private
from truancy.daemon.purge import purge
from truancy.daemon.schema import cases
from truancy.daemon.settings import RetentionSettings
from truancy.daemon.store import upgrade

TODAY = date(2026, 12, 1)


def _letter(key: str, created: datetime, print_file: str) -> dict[str, object]:
    return {
        "notice_id": key, "school_year": "2025-26", "notice_type": "tx_start_of_year", "batch_id": "b",
        "school_id": "1", "language": "en", "wanted_language": "en", "status": "sent", "facts": {},
        "letter_text": "", "created_at": created, "print_file": print_file,
    }  # fmt: skip


def test_old_family_letters_go_with_their_students_record_and_open_cases_keep_theirs(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    folder = private_dir(tmp_path / "letters")
    old = datetime(2025, 8, 20, tzinfo=UTC)
    recent = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    for name in ("part1", "part2"):
        write_private(folder / f"{name}.pdf", b"%PDF-1.7")
        write_private(folder / f"{name}.csv", "school_id\n")
    letters = (
        ("a" * 40, old, "part1", ("s1", "s2")),  # old, nobody held: goes; part1 keeps a letter
        ("b" * 40, old, "part2", ("s3", "open")),  # old, but a child has an open case: stays
        ("c" * 40, recent, "part1", ("s4",)),  # recent: stays, and so does part1
        ("d" * 40, old, "part3", ("s5",)),  # old, its file alone: both go
    )
    write_private(folder / "part3.pdf", b"%PDF-1.7")
    with engine.begin() as connection:
        connection.execute(
            insert(cases).values(
                student_id="open", school_year="2025-26", status="open", tier=None, state={}, updated_cycle=1
            )
        )
        for key, created, part, children in letters:
            connection.execute(
                insert(family_notices).values(_letter(key, created, str(folder / f"{part}.pdf")))
            )
            for child in children:
                connection.execute(
                    insert(family_notice_students).values(
                        school_year="2025-26", notice_type="tx_start_of_year", student_id=child,
                        notice_id=key, sis_ref=child,
                    )
                )  # fmt: skip
    settings = RetentionSettings(family_notices_days=365)
    dry = purge(engine, settings, today=TODAY, dry_run=True, config_dir=tmp_path)
    [kind] = [k for k in dry.kinds if k.kind == "family_notices"]
    assert (kind.status, kind.records, kind.files) == ("would purge", 2, 1)
    assert (folder / "part3.pdf").exists()

    report = purge(engine, settings, today=TODAY, config_dir=tmp_path)
    [kind] = [k for k in report.kinds if k.kind == "family_notices"]
    assert (kind.records, kind.oldest) == (2, old.date())
    with engine.connect() as connection:
        left = set(connection.execute(select(family_notices.c.notice_id)).scalars())
        students = set(connection.execute(select(family_notice_students.c.student_id)).scalars())
    assert left == {"b" * 40, "c" * 40}
    assert students == {"s3", "open", "s4"}
    assert not (folder / "part3.pdf").exists()
    assert (folder / "part1.pdf").exists()
    assert (folder / "part2.pdf").exists()
