"""``truancy demo``: one full sync against the built-in sandbox district, then a readable summary.

The sandbox is the only SIS a demo may talk to, which is why this module (with ``cli``) is the one
place the daemon imports ``truancy.sandbox``.
"""

from __future__ import annotations

import signal
import time
from datetime import date
from pathlib import Path
from types import FrameType

from rich.console import Console
from sqlalchemy import select

from truancy.daemon.files import private_dir, write_private
from truancy.daemon.notices import NoticeCycle
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.notices_schema import notices as notice_rows
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.progress import reporter
from truancy.daemon.report import print_summary
from truancy.daemon.runtime import Runtime, runtime
from truancy.daemon.sandbox_sis import SandboxSis
from truancy.daemon.schema import cases, students
from truancy.daemon.settings import load_settings
from truancy.sandbox.server import SandboxServer, sandbox_facts, write_daemon_config

STATE_FILE = "truancy-state.db"


def run_demo(
    *,
    students: int,
    seed: int,
    workdir: Path,
    serve: bool,
    console: Console,
    as_of: date | None = None,
    sis: str = "powerschool",
) -> None:
    """Sync once against a fresh sandbox; ``as_of`` pins the sandbox's today and the daemon's alike
    (by default both are today in the district's time zone: a school year in progress)."""
    workdir = workdir.resolve()
    private_dir(workdir)  # the state file and the config (with the sandbox's secret) live here
    for stale in workdir.glob(f"{STATE_FILE}*"):
        stale.unlink()  # a fresh sandbox needs a fresh state file
    config_path = workdir / "truancy.toml"
    console.print(f"Starting the sandbox district ({students:,} students, seed {seed}) …")
    product = SandboxSis(sis)
    sandbox = SandboxServer(
        students=students, seed=seed, in_process=False, fragments_dir=product.fragments, as_of=as_of
    )
    with sandbox as server:
        write_daemon_config(config_path, server.url, product.section(sandbox_facts(server.url, as_of)))
        settings = load_settings(config_path)
        started = time.perf_counter()
        with runtime(settings) as rt, reporter() as progress:
            notices = notice_cycle(rt)
            summary = SyncPipeline(
                rt.engine,
                rt.plugin,
                rt.policy,
                reporter=progress,
                timezone=settings.district.zone,
                notices=notices,
            ).run_cycle(today=as_of)
            flagged = _flagged_student_ref(rt)
            letter = _sample_letter(rt, notices, workdir)
        elapsed = time.perf_counter() - started
        print_summary(summary, console)
        console.print(f"Full sync took {elapsed:.1f} s.")
        if letter is not None:
            count, path = letter
            console.print(
                f"{count} family letter(s) await the officer's approval in the SIS; one of them: {path}"
            )
        page = product.student_page(server.url, flagged) if flagged is not None else None
        _where_to_look(console, server.url, page, config_path, workdir / STATE_FILE, serve)
        if serve:
            _serve_until_interrupted(console)


def _flagged_student_ref(rt: Runtime) -> str | None:
    with rt.engine.connect() as connection:
        ref: str | None = connection.execute(
            select(students.c.sis_ref)
            .join(cases, cases.c.student_id == students.c.student_id)
            .where(cases.c.status == "open", students.c.sis_ref.is_not(None))
            .order_by(students.c.student_id)
            .limit(1)
        ).scalar_one_or_none()
    return ref


def _sample_letter(rt: Runtime, notices: NoticeCycle | None, workdir: Path) -> tuple[int, Path] | None:
    """How many letters the sync generated, and one of them as a PDF in the demo's folder."""
    if notices is None:
        return None
    with rt.engine.connect() as connection:
        rows = connection.execute(select(notice_rows).order_by(notice_rows.c.notice_id)).mappings().all()
    if not rows:
        return None
    path = private_dir(workdir / "notices") / "sample-letter.pdf"
    write_private(path, notices.pdf_for(rows[0]))
    return len(rows), path


def _where_to_look(
    console: Console, url: str, flagged_page: str | None, config: Path, state: Path, serve: bool
) -> None:
    console.print("\n[bold]Where to look[/]")
    console.print(f"  state file:     {state}")
    console.print(f"  daemon config:  {config}  (try `truancy status --config {config}`)")
    if flagged_page is not None:
        console.print(f"  a flagged student's SIS page: {flagged_page}")
    console.print(f"  open cases (start page):      {url}/admin/home.html")
    console.print(f"  the district's index page:    {url}/")
    if not serve:
        console.print(
            "  The sandbox stopped with the demo; run `truancy demo --serve` to keep it up and browse."
        )


def _serve_until_interrupted(console: Console) -> None:
    """Wait for Ctrl-C or SIGTERM (a service manager, ``kill``); the caller then stops the sandbox."""
    console.print("\nSandbox is up; press Ctrl-C to stop it.")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("Stopping the sandbox.")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
