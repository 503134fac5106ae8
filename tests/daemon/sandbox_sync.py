"""Helpers for end-to-end tests: a sandbox district, a daemon config pointing at it, a sync."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests
from sqlalchemy import select

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.http import HttpSession
from truancy.connector.powerschool import PowerSchoolClient, powerschool_auth
from truancy.daemon.pipeline import CycleSummary, SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import cases, students
from truancy.daemon.settings import Settings, load_settings
from truancy.mappings.case import CaseState, case_from_dict
from truancy.plugins.powerschool.build import bundle_dir
from truancy.sandbox.server import SandboxServer, write_daemon_config

TABLES = ("U_TRUANCY_FLAGS", "U_TRUANCY_NOTES", "U_TRUANCY_TASKS")


@dataclass
class District:
    """A running sandbox and a daemon configured against it."""

    server: SandboxServer
    settings: Settings
    config: Path

    @property
    def today(self) -> date | None:
        """The sandbox's pinned today, which the daemon evaluates as of too (None: the real today)."""
        return self.server.as_of

    def sync(self, *, dry_run: bool = False, full: bool = False, today: date | None = None) -> CycleSummary:
        """One cycle as of ``today`` (the sandbox's pinned today unless a test moves the clock on)."""
        with runtime(self.settings) as rt:
            pipeline = SyncPipeline(
                rt.engine,
                rt.plugin,
                rt.policy,
                dry_run=dry_run,
                caseloads=self.settings.caseloads,
                outcomes=self.settings.outcomes,
                district=self.settings.district.id,
            )
            return pipeline.run_cycle(full=full, today=today or self.today)

    def control(self, method: str, path: str, **kwargs: object) -> requests.Response:
        response = requests.request(method, f"{self.server.url}/_sandbox{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response

    @contextmanager
    def powerschool(self) -> Iterator[PowerSchoolClient]:
        """The SIS's own API, as an officer's browser or a test reads and edits it."""
        url = self.server.url
        with HttpSession(url, auth=powerschool_auth(url, "sandbox", "sandbox")) as session:
            yield PowerSchoolClient(session)

    def sis_rows(self) -> dict[str, list[dict[str, str]]]:
        """Every row of the three truancy tables, read through the SIS's own API."""
        with self.powerschool() as client:
            return {table: [row for page in client.iter_table(table) for row in page] for table in TABLES}

    def notice_logs(self) -> list[dict[str, str]]:
        """Every row of U_TRUANCY_NOTICES (the family letters' log), through the SIS's own API."""
        with self.powerschool() as client:
            return [row for page in client.iter_table("U_TRUANCY_NOTICES") for row in page]

    def lose_store(self) -> None:
        """Delete everything the store holds but its identity, as a disk lost with no backup would
        leave a district that kept its instance file."""
        store = next(self.config.parent.rglob("*.db"))
        with sqlite3.connect(store) as db:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                if table not in {"alembic_version", "store_instance"}:
                    db.execute(f'DELETE FROM "{table}"')  # noqa: S608 - table names from the store itself

    def case_of(self, studentsdcid: str) -> CaseState:
        """The daemon's stored case for the student with this PowerSchool DCID (the latest year's)."""
        with runtime(self.settings) as rt, rt.engine.connect() as connection:
            student_id = connection.execute(
                select(students.c.student_id).where(students.c.sis_ref == studentsdcid)
            ).scalar_one()
            state = connection.execute(
                select(cases.c.state)
                .where(cases.c.student_id == student_id)
                .order_by(cases.c.school_year.desc())
                .limit(1)
            ).scalar_one()
        return case_from_dict(state)


@contextmanager
def sandbox_district(
    tmp_path: Path,
    *,
    students: int = 300,
    seed: int = 1,
    extra_toml: str = "",
    state: str = "CA",
    as_of: date = PINNED_AS_OF,
    plugin_pages: bool = False,
) -> Iterator[District]:
    """``plugin_pages``: the student and start pages carry the PowerSchool bundle's fragments."""
    fragments = bundle_dir() / "web_root" if plugin_pages else None
    with SandboxServer(students=students, seed=seed, as_of=as_of, fragments_dir=fragments) as server:
        config = tmp_path / "truancy.toml"
        write_daemon_config(config, server.url)
        text = config.read_text(encoding="utf-8")
        assert 'state = "CA"' in text
        text = text.replace('state = "CA"', f'state = "{state}"') + extra_toml
        config.write_text(text, encoding="utf-8")
        yield District(server, load_settings(config), config)
