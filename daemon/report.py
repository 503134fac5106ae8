"""A readable account of one sync cycle, for people at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from truancy.daemon.pipeline import CycleSummary


def print_summary(summary: CycleSummary, console: Console) -> None:
    mode = " (dry run: nothing written)" if summary.dry_run else ""
    console.print(f"[bold]Sync cycle {summary.cycle_id}[/]{mode} — evaluated as of {summary.as_of}")
    console.print(
        f"  {summary.students:,} students, {summary.attendance_records:,} non-present attendance records, "
        f"{summary.open_cases:,} open cases"
    )
    designations = Table("designation", "students", title="Students by designation")
    for designation, count in sorted(summary.cases.items()):
        designations.add_row(designation, f"{count:,}")
    console.print(designations)
    writes = Table("", "flags", "notes", "tasks", "total", title="Writes to the SIS")
    for op in ("created", "updated", "deleted"):
        kinds = summary.planned.get(op, {})
        done = getattr(summary.writes, op) if not summary.dry_run else sum(kinds.values())
        writes.add_row(op, *(f"{kinds.get(k, 0):,}" for k in ("flag", "note", "task")), f"{done:,}")
    writes.add_row("unchanged", "", "", "", f"{summary.writes.unchanged:,}")
    console.print(writes)
    if summary.quarantined:
        console.print(f"[yellow]{summary.quarantined:,} record(s) quarantined[/] (see `truancy status`)")
    if summary.unknown_codes:
        codes = ", ".join(f"{code} ×{n}" for code, n in sorted(summary.unknown_codes.items()))
        console.print(f"[yellow]Unknown attendance codes:[/] {codes} — add them to the code map")
    for error in summary.errors:
        console.print(f"[red]error:[/] {error}")
