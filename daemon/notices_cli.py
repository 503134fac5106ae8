"""``truancy notices preview|batch|languages``: look at a letter before it exists, rebuild a day's
print batch, and report each school's primary languages against Cal. Educ. Code § 48985."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from truancy.daemon.access_log import record_access
from truancy.daemon.cli_errors import fail
from truancy.daemon.files import private_dir, write_private
from truancy.daemon.notice_languages import measure
from truancy.daemon.notices import NoticeCycle
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.print_batch import rebuild_print_batch
from truancy.daemon.runtime import Runtime, runtime
from truancy.daemon.settings import load_settings, resolve_path

notices_app = typer.Typer(
    help="Family notices: letters the law requires.", no_args_is_help=True, rich_markup_mode=None
)
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="settings TOML file")]
SecretsOption = Annotated[Path | None, typer.Option("--secrets-dir", help="directory of secret files")]
out = Console()


def _cycle(rt: Runtime, secrets_dir: Path | None) -> NoticeCycle:
    cycle = notice_cycle(rt, secrets_dir=secrets_dir)
    if cycle is None:
        raise fail(
            f"no notices for district.state = {rt.settings.district.state!r} (or [notices] enabled = false)"
        )
    return cycle


@notices_app.command("preview")
def preview_command(
    config: ConfigOption,
    student: Annotated[
        str, typer.Option("--student", help="the student's key in the SIS (PowerSchool DCID)")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="where to write the PDF (a .txt of its text beside it)")
    ],
    secrets_dir: SecretsOption = None,
    on: Annotated[
        str | None, typer.Option("--date", help="the letter's date, YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Render the letter a student's family would get today, without storing or sending it."""
    settings = load_settings(config, secrets_dir=secrets_dir)
    today = date.fromisoformat(on) if on else date.today()
    with runtime(settings) as rt:
        found = _cycle(rt, secrets_dir).preview(student, today)
        if found is None:
            raise fail(f"no student with SIS key {student!r} in the store: run `truancy sync --once` first")
        letter, pdf = found
        write_private(out_file, pdf)
        write_private(out_file.with_suffix(".txt"), letter.text + "\n")
        record_access(rt.engine, "notices preview", students=1)
    grade = f", reading grade {letter.grade_level:.1f}" if letter.grade_level is not None else ""
    out.print(
        f"{out_file} ({letter.language}, {letter.words} words{grade}); text in {out_file.with_suffix('.txt')}"
    )


@notices_app.command("batch")
def batch_command(
    config: ConfigOption,
    on: Annotated[
        str | None, typer.Option("--date", help="the batch's day, YYYY-MM-DD (default: today)")
    ] = None,
    secrets_dir: SecretsOption = None,
) -> None:
    """Rebuild one day's print batch (letters and conference invitations sorted by school) and its
    mailing manifest."""
    settings = load_settings(config, secrets_dir=secrets_dir)
    day = date.fromisoformat(on) if on else date.today()
    batch_id = f"print-{day.isoformat()}"
    with runtime(settings) as rt:
        folder = private_dir(resolve_path(settings, settings.notices.output_dir))
        count = rebuild_print_batch(rt.engine, folder, batch_id, lambda path: resolve_path(settings, path))
        if count:
            record_access(rt.engine, "notices batch", students=count)
    out.print(f"{count} item(s) in {folder / (batch_id + '.pdf')}" if count else f"nothing printed on {day}")


@notices_app.command("languages")
def languages_command(
    config: ConfigOption,
    secrets_dir: SecretsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Per school, the primary languages other than English at or over the § 48985 share (15%), and
    which of them lack a reviewed catalog. Languages are the guardians' preferred language as the SIS
    records it (the first guardian of each student), read for this report and not stored (the
    cycle measures the same once a school year, and sends a letter in such a language with English
    beside it in one PDF)."""
    settings = load_settings(config, secrets_dir=secrets_dir)
    with runtime(settings) as rt:
        cycle = _cycle(rt, secrets_dir)
        counts = measure(rt.engine, cycle.contacts) if cycle.contacts is not None else {}
        share = cycle.pack.primary_language_share or 1.0
        report: list[dict[str, Any]] = []
        for school, languages in sorted(counts.items()):
            total = sum(languages.values())
            for language, number in sorted(languages.items(), key=lambda item: -item[1]):
                if language == "en" or number / total < share:
                    continue
                catalog = cycle.catalogs.get(language)
                reviewed = bool(catalog and catalog.reviewed and catalog.statutory_reviewed)
                report.append(
                    {
                        "school_id": school,
                        "language": language,
                        "students": number,
                        "share": round(number / total, 3),
                        "reviewed_catalog": reviewed,
                    }
                )
    if as_json:
        typer.echo(json.dumps({"threshold": share, "languages": report}))
        return
    table = Table(
        "school",
        "language",
        "students",
        "share",
        "reviewed catalog",
        title=f"Languages at or over {share:.0%}",
    )
    for row in report:
        missing = "[red]no: letters go in English with a translation task[/]"
        reviewed_text = "yes: letters go in this language and English" if row["reviewed_catalog"] else missing
        table.add_row(
            row["school_id"], row["language"], str(row["students"]), f"{row['share']:.0%}", reviewed_text
        )
    out.print(table)
