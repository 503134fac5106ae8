"""One daemon per district: a file lock on SQLite, an advisory lock on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from truancy.daemon.lock import DistrictLock, LockHeldError
from truancy.daemon.store import create_store_engine

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_sqlite_lock_refuses_a_second_holder_and_frees_on_release(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with DistrictLock(engine, "d1"), pytest.raises(LockHeldError, match="already being synced"):
        DistrictLock(engine, "d1").acquire()
    with DistrictLock(engine, "d1"):
        pass


def test_sqlite_lock_is_freed_when_the_holder_is_killed(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time\n"
            "from truancy.daemon.lock import DistrictLock\n"
            "from truancy.daemon.store import create_store_engine\n"
            f"lock = DistrictLock(create_store_engine('sqlite:///{database}'), 'd1')\n"
            "lock.acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        engine = create_store_engine(f"sqlite:///{database}")
        with pytest.raises(LockHeldError, match=str(holder.pid)):
            DistrictLock(engine, "d1").acquire()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    with DistrictLock(engine, "d1"):
        pass


@pytest.fixture
def postgres_url() -> str:
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    finally:
        engine.dispose()
    return POSTGRES_URL


def test_postgres_advisory_lock_is_per_district(postgres_url: str) -> None:
    district = f"d-{uuid.uuid4().hex[:8]}"
    first, second = create_store_engine(postgres_url), create_store_engine(postgres_url)
    try:
        with DistrictLock(first, district):
            with pytest.raises(LockHeldError, match="advisory lock"):
                DistrictLock(second, district).acquire()
            with DistrictLock(second, district + "-other"):
                pass
        with DistrictLock(second, district):
            pass
    finally:
        first.dispose()
        second.dispose()
