"""``truancy notices approve``: the officer's one decision for a batch of family letters.

The letters of a batch (TX § 25.095(a): every family, once a year) say the same thing to each
family, so the officer reads the sample written beside the batch (``<batch>-sample.pdf`` in the
notices output folder) and approves the batch; the next cycle prints it. ``--list`` shows the
batches and their letters by status without changing anything.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from truancy.daemon.access_log import record_access
from truancy.daemon.cli_errors import fail
from truancy.daemon.family_notices import approve_batch, batches
from truancy.daemon.lock import DistrictLock
from truancy.daemon.runtime import runtime
from truancy.daemon.settings import load_settings

out = Console()


def approve_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="settings TOML file")],
    notice: Annotated[
        str | None, typer.Option("--notice", help="the notice type, e.g. tx_start_of_year")
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch", help="one batch only (see --list)")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="show the batches; approve nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    secrets_dir: Annotated[
        Path | None, typer.Option("--secrets-dir", help="directory of secret files")
    ] = None,
) -> None:
    """Approve a batch of family letters (one per household) for printing by the next cycle."""
    settings = load_settings(config, secrets_dir=secrets_dir)
    if not list_only and notice is None:
        raise fail("name the notice to approve with --notice (see --list for the batches waiting)")
    with runtime(settings) as rt:
        if list_only:
            found = batches(rt.engine)
            if as_json:
                typer.echo(json.dumps({"batches": found}))
                return
            for entry in found:
                counts = ", ".join(f"{n} {status}" for status, n in sorted(entry["letters"].items()))
                out.print(f"{entry['batch_id']}: {counts} ({entry['students']} students)")
            if not found:
                out.print("no family letters yet")
            return
        assert notice is not None
        with DistrictLock(rt.engine, settings.district.id):  # the running service takes it too
            approved = approve_batch(rt.engine, notice, date.today(), batch)
        record_access(rt.engine, "notices approve", students=0)
    if as_json:
        typer.echo(json.dumps({"approved": approved}))
        return
    if not approved:
        out.print(f"nothing of {notice} awaits approval" + (f" in {batch}" if batch else ""))
    for batch_id, count in sorted(approved.items()):
        out.print(f"approved {count} letter(s) of {batch_id}: the next cycle prints them")
