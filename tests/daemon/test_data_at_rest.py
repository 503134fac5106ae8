"""Student data at rest: private files whatever the umask, refusal of readable secrets, purge, access log.

Against a sandbox district over real HTTP; the CLI checks run ``truancy`` as a subprocess, as a cron
job or an administrator's shell would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Date, Engine, Integer, MetaData, String, Table, func, insert, select, update

from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.service_support import VirtualClock
from truancy.daemon.access_log import os_user
from truancy.daemon.audit_schema import access_log, case_outcomes, purge_log
from truancy.daemon.files import Privacy, open_private, private_dir, write_private
from truancy.daemon.lock import DistrictLock
from truancy.daemon.purge import RetentionKind, TableKind, purge, registered_kinds
from truancy.daemon.runtime import build_policy, store_engine
from truancy.daemon.schema import cases, cycles, outbox, students
from truancy.daemon.service import Options, SyncService
from truancy.daemon.settings import RetentionSettings, load_settings
from truancy.daemon.store import upgrade
from truancy.mappings.case import CaseState, advance_case, case_to_dict
from truancy.mappings.determination import Designation, Determination
from truancy.mappings.facts import SchoolCalendar

TRUANCY = [str(Path(sys.executable).with_name("truancy"))]


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _readable_by_others(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        if stat.S_IMODE(path.stat().st_mode) & (stat.S_IROTH | stat.S_IWOTH):
            found.append(f"{path.relative_to(root)} {stat.S_IMODE(path.stat().st_mode):04o}")
    return found


def test_store_and_outputs_are_created_private_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    work = private_dir(tmp_path / "district")
    with sandbox_district(work, students=120) as district:
        summary = district.sync()
        assert summary.ok
        engine = store_engine(district.settings)
        try:
            with DistrictLock(engine, district.settings.district.id):
                held_lock = sorted(p.name for p in work.iterdir() if p.name.endswith(".lock"))
        finally:
            engine.dispose()
        letters = private_dir(work / "out" / "letters" / "2025-26")
        write_private(letters / "batch.pdf", b"%PDF-1.7 letters")
        with open_private(work / "out" / "export.csv") as handle:
            handle.write("school,students\n")
    assert held_lock == ["truancy-state.db.lock"]
    names = {p.name for p in work.rglob("*")}
    assert {"truancy.toml", "truancy-state.db", "batch.pdf", "export.csv", "letters"} <= names
    # a umask of 022 would make every one of these 0644/0755 if they were created the usual way
    assert _readable_by_others(work) == []
    assert stat.S_IMODE((work / "truancy-state.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(letters.stat().st_mode) == 0o700


def test_a_named_group_gets_read_access_and_others_none(tmp_path: Path, umask_022: None) -> None:
    import grp

    group = grp.getgrgid(os.getgid()).gr_name
    shared = Privacy(group)
    folder = private_dir(tmp_path / "letters", shared)
    written = write_private(folder / "letter.pdf", b"%PDF", shared)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert written.stat().st_gid == grp.getgrnam(group).gr_gid


# -- run and sync refuse readable secrets and stores ------------------------------------------------


def _config(tmp_path: Path, *, secret_inline: bool) -> Path:
    secret = 'client_secret = "s3cret"' if secret_inline else 'client_secret_file = "secret.txt"'
    text = f"""
[district]
id = "refusal"

[store]
url = "sqlite:///state.db"

[sis]
plugin = "powerschool"

[sis.oneroster]
base_url = "http://127.0.0.1:9/ims/oneroster/rostering/v1p2"
token_url = "http://127.0.0.1:9/oauth/token"
client_id = "x"
{secret}

[sis.powerschool]
base_url = "http://127.0.0.1:9"
client_id = "x"
client_secret_file = "secret.txt"
"""
    path = tmp_path / "truancy.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("s3cret\n", encoding="utf-8")
    secret_file.chmod(0o600)
    return path


def _truancy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRUANCY, *args], capture_output=True, text=True, timeout=120, check=False)


COMMANDS = [("sync", "--once"), ("run", "--once")]


@pytest.mark.parametrize("command", COMMANDS, ids=["sync", "run"])
def test_a_world_readable_store_stops_the_command(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = _config(tmp_path, secret_inline=False)
    store = tmp_path / "state.db"
    store.touch()
    store.chmod(0o644)
    result = _truancy(*command, "--config", str(config))
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert str(store) in message
    assert f"chmod 600 {store}" in message
    assert stat.S_IMODE(store.stat().st_mode) == 0o644  # reported, not silently changed


@pytest.mark.parametrize("command", COMMANDS, ids=["sync", "run"])
def test_a_world_readable_secret_file_stops_the_command(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = _config(tmp_path, secret_inline=False)
    (tmp_path / "secret.txt").chmod(0o644)
    result = _truancy(*command, "--config", str(config))
    assert result.returncode != 0
    assert str(tmp_path / "secret.txt") in " ".join(result.stderr.split())


@pytest.mark.parametrize("command", COMMANDS, ids=["sync", "run"])
def test_a_readable_settings_file_with_a_secret_stops_the_command(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    config = _config(tmp_path, secret_inline=True)
    config.chmod(0o644)
    result = _truancy(*command, "--config", str(config))
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert f"settings file (it holds a secret) {config}" in message
    assert "s3cret" not in result.stderr + result.stdout


def test_a_secrets_folder_others_can_list_stops_the_command(tmp_path: Path) -> None:
    config = _config(tmp_path, secret_inline=False)
    secrets = tmp_path / "credentials"
    secrets.mkdir(mode=0o755)
    secrets.chmod(0o755)
    result = _truancy("sync", "--once", "--config", str(config), "--secrets-dir", str(secrets))
    assert result.returncode != 0
    assert f"secrets folder {secrets} is readable by others" in " ".join(result.stderr.split())
    assert f"chmod 700 {secrets}" in " ".join(result.stderr.split())


def test_a_readable_settings_file_without_secrets_is_accepted(tmp_path: Path) -> None:
    config = _config(tmp_path, secret_inline=False)
    config.chmod(0o644)
    result = _truancy("sync", "--once", "--config", str(config))
    # past the permission check: it fails only on the unreachable SIS (a transient error, exit 3)
    assert "readable by others" not in result.stderr
    assert result.returncode == 3, result.stderr


# -- purge -------------------------------------------------------------------------------------------

LETTERS = MetaData()
letters = Table(
    "test_letters",
    LETTERS,
    Column("id", Integer, primary_key=True),
    Column("student_id", String(128), nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("pdf_path", String(255), nullable=False),
)


def _closed_prior_year_case(
    district: District, student_id: str, school_id: str, closed_on: date
) -> CaseState:
    """A case opened in 2024-25 and closed by the first evaluation of the next year, through the case
    model the evaluator uses (the sandbox serves one school year, so it cannot close one itself)."""
    policy = build_policy(district.settings)
    assert policy.case is not None
    tier = policy.case.tiers[0]
    met_on = date(2025, 3, 3)
    days = tuple(
        met_on + timedelta(days=n) for n in range(0, 60) if (met_on + timedelta(days=n)).weekday() < 5
    )
    designation = Designation(
        tier.enter_when.designation, "Truant", "Cal. Educ. Code § 48260", "r", met_on, 3, 3, "days", ()
    )
    opened = advance_case(
        None,
        Determination(student_id, policy.id, "1", met_on, (designation,)),
        case_policy=policy.case,
        calendar=SchoolCalendar(school_id, days),
        school_year="2024-25",
    )
    closed = advance_case(
        opened,
        Determination(student_id, policy.id, "1", closed_on, ()),
        case_policy=policy.case,
        calendar=SchoolCalendar(school_id, days),
        school_year="2025-26",
    )
    assert closed is not None
    assert closed.status == "closed"
    return closed


def _case_rows(engine: Engine) -> dict[str, tuple[str, str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(cases.c.student_id, cases.c.status, cases.c.school_year, cases.c.state)
        )
        return {r.student_id: (r.status, r.school_year, r.state) for r in rows}


def test_purge_end_to_end(tmp_path: Path) -> None:
    today = datetime.now().date()
    old_close, recent_close = today - timedelta(days=400), today - timedelta(days=10)
    retention = "\n[retention]\nclosed_cases_days = 180\nnotices_days = 180\nwrite_journal_days = 30\n"
    with sandbox_district(tmp_path, students=300, extra_toml=retention) as district:
        assert district.sync().ok
        settings = load_settings(district.config)
        engine = store_engine(settings)
        upgrade(engine)
        with engine.begin() as connection:
            with_case = set(connection.execute(select(cases.c.student_id)).scalars())
            no_case = [
                (sid, school)
                for sid, school in connection.execute(
                    select(students.c.student_id, students.c.school_id).order_by(students.c.student_id)
                )
                if sid not in with_case
            ]
            (old_sid, old_school), (recent_sid, recent_school), (letter_sid, _) = no_case[:3]
            for sid, school, closed_on in (
                (old_sid, old_school, old_close),
                (recent_sid, recent_school, recent_close),
            ):
                case = _closed_prior_year_case(district, sid, school, closed_on)
                connection.execute(
                    insert(cases).values(
                        student_id=sid,
                        school_year=case.school_year,
                        status="closed",
                        tier=case.tier,
                        state=case_to_dict(case),
                        updated_cycle=1,
                    )
                )
            journal_ids = list(connection.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars())
            aged = journal_ids[: len(journal_ids) // 2]
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(aged))
                .values(created_at=datetime.now() - timedelta(days=90))
            )
            open_sid = next(
                iter(connection.execute(select(cases.c.student_id).where(cases.c.status == "open")).scalars())
            )
            old_tier = connection.execute(
                select(cases.c.tier).where(cases.c.student_id == old_sid)
            ).scalar_one()
        LETTERS.create_all(engine)
        folder = private_dir(tmp_path / "letters")
        letter_rows = [
            (letter_sid, today - timedelta(days=300), "gone.pdf"),  # past retention, no case: destroyed
            (open_sid, today - timedelta(days=300), "open-case.pdf"),  # an open case needs it
            (letter_sid, today - timedelta(days=5), "recent.pdf"),  # within retention
        ]
        with engine.begin() as connection:
            for sid, sent_on, name in letter_rows:
                write_private(folder / name, b"%PDF-1.7")
                connection.execute(
                    insert(letters).values(student_id=sid, sent_on=sent_on, pdf_path=f"letters/{name}")
                )
        kinds: dict[str, RetentionKind] = {
            **registered_kinds(),
            "notices": TableKind("notices", "test_letters", "sent_on", file_column="pdf_path"),
        }
        before = _case_rows(engine)

        dry = purge(engine, settings.retention, today=today, dry_run=True, config_dir=tmp_path, kinds=kinds)
        assert _case_rows(engine) == before
        assert sorted(p.name for p in folder.iterdir()) == ["gone.pdf", "open-case.pdf", "recent.pdf"]

        report = purge(engine, settings.retention, today=today, config_dir=tmp_path, kinds=kinds)
        by_kind = {k.kind: k for k in report.kinds}
        assert {k.kind: k.records for k in dry.kinds} == {k.kind: k.records for k in report.kinds}
        assert by_kind["closed_cases"].records == 1
        assert by_kind["closed_cases"].oldest == by_kind["closed_cases"].newest == old_close
        assert by_kind["notices"].records == 1
        assert by_kind["notices"].files == 1
        assert by_kind["write_journal"].records == len(aged)
        assert by_kind["packets"].status == "no retention set"
        assert by_kind["contacts"].status == "no retention set"

        after = _case_rows(engine)
        assert old_sid not in after
        assert after[recent_sid][0] == "closed"
        assert {sid: row for sid, row in before.items() if row[0] == "open"} == {
            sid: row for sid, row in after.items() if row[0] == "open"
        }
        assert sorted(p.name for p in folder.iterdir()) == ["open-case.pdf", "recent.pdf"]
        with engine.connect() as connection:
            remaining_letters = connection.execute(
                select(letters.c.pdf_path).order_by(letters.c.id)
            ).scalars()
            assert list(remaining_letters) == ["letters/open-case.pdf", "letters/recent.pdf"]
            assert connection.execute(select(func.count()).select_from(outbox)).scalar_one() == len(
                journal_ids
            ) - len(aged)
            outcomes = connection.execute(select(case_outcomes)).all()
            log = connection.execute(select(purge_log).order_by(purge_log.c.kind)).all()
        assert [tuple(r) for r in outcomes] == [("2024-25", old_school, old_tier or "", 1)]
        assert {r.kind: (r.records, r.files) for r in log} == {
            "closed_cases": (1, 0),
            "notices": (1, 1),
            "write_journal": (len(aged), 0),
        }
        assert all(r.run_by == os_user() for r in log)
        identities = {old_sid, recent_sid, letter_sid, open_sid}
        logged = {str(value) for row in [*outcomes, *log] for value in row}
        assert not identities & logged

        second = _truancy("purge", "--config", str(district.config), "--json")
        assert second.returncode == 0, second.stderr
        figures = json.loads(second.stdout)
        assert {k["kind"]: k["records"] for k in figures["kinds"]} == {
            "closed_cases": 0,
            "notices": 0,
            "family_notices": 0,
            "packets": 0,
            "contacts": 0,
            "write_journal": 0,
        }
        assert _case_rows(engine) == after
        engine.dispose()


def test_an_unset_retention_purges_nothing(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=100) as district:
        assert district.sync().ok
        engine = store_engine(district.settings)
        before = _case_rows(engine)
        report = purge(engine, RetentionSettings(), today=date.today())
        assert {k.status for k in report.kinds} == {"no retention set"}
        assert _case_rows(engine) == before
        engine.dispose()


# -- access log --------------------------------------------------------------------------------------


def test_a_dry_run_plan_is_logged_with_who_and_how_many_never_whom(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=150) as district:
        result = _truancy("sync", "--once", "--dry-run", "--json", "--config", str(district.config))
        assert result.returncode == 0, result.stderr
        plans = json.loads(result.stdout)["student_plans"]
        engine = store_engine(district.settings)
        with engine.connect() as connection:
            rows = connection.execute(select(access_log)).all()
            kept = connection.execute(select(cycles.c.summary)).scalars().all()
        engine.dispose()
    assert plans
    assert len(rows) == 1
    assert (rows[0].os_user, rows[0].kind, rows[0].students) == (os_user(), "dry-run plan", len(plans))
    # the plan went to the terminal; the store keeps the cycle's totals, not whom it planned for
    assert len(kept) == 1
    assert "student_plans" not in kept[0]
    assert not {plan["student"] for plan in plans} & {str(value) for value in kept[0].values()}


# -- the nightly purge -----------------------------------------------------------------------------

NIGHTLY_TOML = """
[health]
enabled = false

[schedule]
jitter_seconds = 0
interval_minutes = 600.0

[retention]
nightly = true
write_journal_days = 0
"""


def test_the_service_purges_after_the_nightly_reconcile_only(tmp_path: Path) -> None:
    monday = datetime(2026, 3, 2, 17, 10, tzinfo=UTC)  # 09:10 in Los Angeles
    with sandbox_district(tmp_path, students=100, extra_toml=NIGHTLY_TOML) as district:
        clock = VirtualClock(monday)
        service = SyncService(Options(district.config, install_signals=False), clock=clock, wait=clock.wait)
        clock.cycles = lambda: service.cycles_run
        # at start (09:10), at 17:00 (both incremental), then the 02:00 nightly reconcile
        assert service.run(max_cycles=3) == 0
        engine = store_engine(district.settings)
        with engine.connect() as connection:
            log = connection.execute(select(purge_log)).all()
        engine.dispose()
    assert [(r.kind, r.cutoff, r.run_by) for r in log] == [("write_journal", date(2026, 3, 3), os_user())]
