"""``truancy report outcomes``: the year's outcomes as DIR/outcomes.html and DIR/outcomes.pdf.

Reads the state store (never the SIS), publishes only suppressed aggregates, writes both files
owner-only (``[files] group`` widens them to one group) and logs the run in ``access_log``. With
``--to-sis`` the same published figures are written to the SIS for the director's page
(:mod:`report_sis`).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from truancy.connector.errors import ConnectorError
from truancy.daemon.access_log import record_access
from truancy.daemon.cli_errors import fail
from truancy.daemon.files import private_dir, write_private
from truancy.daemon.lock import LockHeldError
from truancy.daemon.readonly import existing_store
from truancy.daemon.report_outcomes import (
    Holdout,
    count_figures,
    default_year,
    publish,
    report_date,
    school_year_bounds,
)
from truancy.daemon.report_sis import write_figures
from truancy.daemon.runtime import build_plugin, build_policy, privacy
from truancy.daemon.settings import SettingsError, load_settings
from truancy.daemon.store import StoreError
from truancy.documents.outcomes_report import render_html, render_pdf
from truancy.mappings.policy import MappingFileError
from truancy.plugins.base import PluginConfigError

report_app = typer.Typer(help="Reports from the state store.", no_args_is_help=True, rich_markup_mode=None)


@report_app.callback()
def report_group() -> None:
    """Reports from the state store (keeps ``outcomes`` a subcommand even when it is alone)."""


@report_app.command("outcomes")
def outcomes_command(
    config: Annotated[Path, typer.Option("--config", help="Settings file (TOML).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for outcomes.html and outcomes.pdf.")],
    year: Annotated[
        str | None,
        typer.Option("--year", help="School year, e.g. 2025-26 (default: the latest the store holds)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count as of this day, YYYY-MM-DD (default: today).")
    ] = None,
    window: Annotated[
        int, typer.Option("--window", min=1, max=60, help="School days before and after each intervention.")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the published figures as JSON.")] = False,
    to_sis: Annotated[
        bool,
        typer.Option("--to-sis", help="Also write the published figures to the SIS for the director's page."),
    ] = False,
) -> None:
    """Chronic absence, truancy, cases by tier, intervention outcomes and the § 48273 SARB counts."""
    try:
        settings = load_settings(config)
        today = _day(as_of) if as_of else datetime.now(settings.district.zone).date()
        engine = existing_store(settings)
        school_year = year or default_year(engine, today)
        school_year_bounds(school_year)
        policy = build_policy(settings)
        plugin = build_plugin(settings)
        try:
            counted_on = report_date(engine, school_year, today)
            figures = count_figures(
                engine,
                policy,
                plugin.categorize,
                school_year,
                counted_on,
                window_days=window,
                holdout=Holdout(settings.outcomes, settings.district.id),
            )
            report: dict[str, Any] = publish(figures, district_name=settings.district.name, policy=policy)
            html = render_html(report)
            files = privacy(settings)
            folder = private_dir(out, files)
            write_private(folder / "outcomes.html", html, files)
            write_private(folder / "outcomes.pdf", render_pdf(html), files)
            record_access(
                engine,
                "outcomes report",
                students=figures.groups["district"].get("all", Counter())["students"],
            )
            if to_sis:
                written = write_figures(engine, settings.district.id, plugin, report, config)
                report["sis"] = written.as_dict()
        finally:
            plugin.close()
            engine.dispose()
    except (SettingsError, PluginConfigError, MappingFileError, StoreError, LockHeldError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    except ConnectorError as exc:
        raise fail(f"SIS: {exc}", code=3, as_json=as_json) from None
    except (ValueError, OSError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(
            f"wrote {folder / 'outcomes.html'} and {folder / 'outcomes.pdf'} (as of {counted_on.isoformat()})"
        )
        if "sis" in report:
            changed = report["sis"]
            typer.echo(
                f"SIS figures for {school_year}: {changed['created']} created, {changed['updated']} updated, "
                f"{changed['deleted']} deleted, {changed['unchanged']} unchanged"
            )


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--as-of {value!r}: expected YYYY-MM-DD") from None
