"""``truancy policy evaluate``: a state policy pack applied to a canonical attendance CSV.

For a district checking its data against the law before (or without) a sync: which students meet
which designation, the counts, and the dated records behind each designation.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from truancy.daemon.cli_errors import fail
from truancy.mappings.canonical_csv import CsvFormatError, CsvRowError, read_attendance_csv
from truancy.mappings.determination import Determination
from truancy.mappings.engine import evaluate_many
from truancy.mappings.facts import StudentAttendance
from truancy.mappings.policy import MappingFileError, load_policy

policy_app = typer.Typer(
    help="State attendance law as policy packs.", no_args_is_help=True, rich_markup_mode=None
)

_SUMMARY_COUNTS = ("enrolled_days", "absent_days", "unexcused_days", "percent_absent")


@policy_app.callback()
def policy_group() -> None:
    """State attendance law as policy packs (keeps ``evaluate`` a subcommand even when it is alone)."""


@policy_app.command("evaluate")
def evaluate_command(
    policy: Annotated[
        str,
        typer.Option(
            help="Built-in pack (CA, TX, PA, IL, FL, NY, OH, WA, GA, NC, MI, NJ, FEDERAL) or a pack file."
        ),
    ],
    attendance: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Canonical attendance CSV.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Evaluation date, YYYY-MM-DD (default: last date in the file)."),
    ] = None,
    overrides: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="District override file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for a machine to read.")] = False,
) -> None:
    """Evaluate every student in ATTENDANCE under POLICY and show designations and evidence.

    Exits 1 when the file had rows it could not use (each is listed, and the valid rows are still
    evaluated): a student whose absence was rejected may be missing a designation.
    """
    err = Console(stderr=True)
    try:
        pack = Path(policy) if policy.endswith((".yaml", ".yml")) else policy
        loaded = load_policy(pack, overrides=overrides)
        students, row_errors = read_attendance_csv(attendance)
    except (MappingFileError, CsvFormatError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    for warning in loaded.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    for row_error in row_errors:
        err.print(f"{attendance.name}: {row_error} (row rejected)", markup=False, highlight=False)
    evaluation_date = _evaluation_date(as_of, students)
    if evaluation_date is None:
        raise fail("the file holds no valid rows to evaluate", as_json=as_json)
    determinations = list(evaluate_many(loaded, students, evaluation_date))
    if as_json:
        typer.echo(
            json.dumps(
                _report_json(loaded.pack.name, loaded.version, evaluation_date, determinations, row_errors),
                indent=2,
            )
        )
    else:
        Console().print(
            _table(determinations, f"{loaded.pack.name} ({loaded.version}) as of {evaluation_date}")
        )
    if row_errors:
        err.print(
            f"{len(row_errors)} row(s) of {attendance.name} rejected: fix them and run again", highlight=False
        )
        raise typer.Exit(1)


def _report_json(
    name: str, version: str, as_of: date, determinations: list[Determination], rejected: list[CsvRowError]
) -> dict[str, Any]:
    return {
        "policy": name,
        "policy_version": version,
        "as_of": as_of.isoformat(),
        "students": [_as_json(d) for d in determinations],
        "rejected_rows": [{"line": r.line, "reason": r.reason} for r in rejected],
    }


def _evaluation_date(as_of: str | None, students: list[StudentAttendance]) -> date | None:
    if as_of is not None:
        try:
            return date.fromisoformat(as_of)
        except ValueError:
            raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    last_days = [student.school_days[-1] for student in students if student.school_days]
    return max(last_days) if last_days else None


def _as_json(determination: Determination) -> dict[str, Any]:
    return {
        "student_id": determination.student_id,
        "policy": determination.policy_id,
        "policy_version": determination.policy_version,
        "as_of": determination.as_of.isoformat(),
        "designations": [d.id for d in determination.designations],
        "counts": determination.counts,
        "evidence": {
            d.id: {
                "label": d.label,
                "citation": d.citation,
                "rule": d.rule,
                "met_on": d.met_on.isoformat(),
                "count": d.count,
                "threshold": d.threshold,
                "unit": d.unit,
                "occasions": d.occasions,
                "records": [
                    {
                        "date": e.date.isoformat(),
                        "category": e.category.value,
                        "minutes_absent": e.minutes_absent,
                        "code": e.code,
                    }
                    for e in d.evidence
                ],
            }
            for d in determination.designations
        },
    }


def _table(determinations: list[Determination], title: str) -> Table:
    table = Table(title=title)
    table.add_column("student")
    table.add_column("designations (met on)")
    for name in _SUMMARY_COUNTS:
        table.add_column(name.replace("_", " "), justify="right")
    for determination in determinations:
        designations = ", ".join(
            f"{d.id} ({d.met_on.isoformat()}{f', x{d.occasions}' if d.occasions > 1 else ''})"
            for d in determination.designations
        )
        counts = [f"{determination.counts.get(name, 0):g}" for name in _SUMMARY_COUNTS]
        table.add_row(determination.student_id, designations or "-", *counts)
    return table
