"""``truancy mappings``: discover, check, preview and trace the files that decide who is truant."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from truancy.connector.errors import ConnectorError
from truancy.daemon.cli_errors import fail
from truancy.daemon.impact import Impact, preview_impact
from truancy.daemon.mapping_check import (
    CheckReport,
    FieldMapCheck,
    FileKind,
    check_casework,
    check_code_map,
    check_code_usage,
    check_field_map,
    check_loads,
    check_paths,
    check_policy_override,
)
from truancy.daemon.readonly import existing_store
from truancy.daemon.runtime import build_plugin, build_policy
from truancy.daemon.schema import cycles, mapping_files
from truancy.daemon.settings import Settings, SettingsError, load_settings, resolve_path
from truancy.daemon.store import StoreError
from truancy.mappings.casework_directory import load_directory
from truancy.mappings.codemap import CodeEntry, CodeMap, load_code_map
from truancy.mappings.discover import (
    MapDifference,
    Suggestion,
    compare_with_map,
    render_code_map,
    suggest_all,
)
from truancy.mappings.facts import Category
from truancy.mappings.yaml_source import MappingFileError
from truancy.plugins.base import PluginConfigError, SisPlugin, installed_plugins, load_plugin

mappings_app = typer.Typer(
    help="Attendance-code maps, field maps and policy overrides.", no_args_is_help=True, rich_markup_mode=None
)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="settings TOML file")]
RequiredConfig = Annotated[Path, typer.Option("--config", "-c", help="settings TOML file")]
SecretsOption = Annotated[Path | None, typer.Option("--secrets-dir", help="directory of secret files")]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object for machines")]

USER_ERRORS = (SettingsError, PluginConfigError, MappingFileError, StoreError)


def _fail(message: str, code: int = 2, *, as_json: bool = False) -> typer.Exit:
    return fail(message, code, as_json=as_json)


def _code_map_path(plugin: SisPlugin) -> Path:
    for source in plugin.mapping_sources:
        if source.kind == "code_map":
            return Path(source.path)
    raise PluginConfigError(f"plugin {plugin.name} reports no code map")


@mappings_app.command("discover")
def discover(
    config: RequiredConfig,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="directory for the proposed map (default: beside the settings)"),
    ] = None,
    as_json: JsonOption = False,
    secrets_dir: SecretsOption = None,
) -> None:
    """Propose a code map from the codes the SIS uses; never overwrites a file."""
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        plugin = build_plugin(settings)
        try:
            observed = plugin.discover_codes()
            current_path = _code_map_path(plugin)
        finally:
            plugin.close()
        current = load_code_map(current_path)
    except USER_ERRORS as exc:
        raise _fail(str(exc), as_json=as_json) from None
    except ConnectorError as exc:
        raise _fail(f"cannot read the SIS's attendance codes: {exc}", code=3, as_json=as_json) from None
    suggestions = suggest_all(observed)
    differences = compare_with_map(current.entries, suggestions)
    target = _free_path(out or settings.config_dir, "codes.proposed")
    target.parent.mkdir(parents=True, exist_ok=True)
    proposed = render_code_map(suggestions, source=f"the {plugin.name} SIS", fold_case=current.fold_case)
    target.write_text(proposed, encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(_discover_json(suggestions, differences, target, current_path), indent=2))
        return
    console = Console()
    console.print(_suggestion_table(suggestions))
    console.print(_difference_table(differences, current_path))
    unmapped = sum(not s.mapped for s in suggestions)
    console.print(f"Proposed map written to [bold]{target}[/] ({current_path} is unchanged).")
    if unmapped:
        console.print(
            f"[yellow]{unmapped} code(s) left unmapped[/]: choose their category in the proposed file."
        )
    console.print("Review it, point mappings.code_map at it, then run `truancy mappings check`.")


def _free_path(directory: Path, stem: str) -> Path:
    """``stem.yaml`` in ``directory``, or the first ``stem-N.yaml`` no file holds yet."""
    candidate = directory / f"{stem}.yaml"
    number = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{number}.yaml"
        number += 1
    return candidate


def _suggestion_table(suggestions: list[Suggestion]) -> Table:
    table = Table(
        "code",
        "description",
        "SIS presence",
        "rows this year",
        "proposed",
        "confidence",
        "why",
        title="Codes",
    )
    for s in suggestions:
        presence = {True: "present", False: "absent", None: ""}[s.observed.present]
        category = (s.category.value + (" (part day)" if s.partial_day else "")) if s.category else "UNMAPPED"
        table.add_row(
            s.code,
            s.observed.description,
            presence,
            f"{s.observed.occurrences:,}",
            category if s.category else f"[yellow]{category}[/]",
            s.confidence.value if s.confidence else "",
            "; ".join(s.reasons),
        )
    return table


def _difference_table(differences: list[MapDifference], current: Path) -> Table:
    table = Table("code", "change", "now", "proposed", title=f"Differences from {current.name}")
    for d in differences:
        table.add_row(d.code, d.change, d.current or "", d.proposed or "")
    return table


def _discover_json(
    suggestions: list[Suggestion], differences: list[MapDifference], target: Path, current: Path
) -> dict[str, object]:
    return {
        "proposed_map": str(target),
        "current_map": str(current),
        "codes": [
            {
                "code": s.code,
                "description": s.observed.description,
                "present": s.observed.present,
                "counts_for_ada": s.observed.counts_for_ada,
                "occurrences": s.observed.occurrences,
                "category": s.category.value if s.category else None,
                "partial_day": s.partial_day,
                "confidence": s.confidence.value if s.confidence else None,
                "reasons": list(s.reasons),
            }
            for s in suggestions
        ],
        "differences": [
            {"code": d.code, "change": d.change, "current": d.current, "proposed": d.proposed}
            for d in differences
        ],
    }


@mappings_app.command("check")
def check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="mapping files to check (kind told by content)")
    ] = None,
    config: ConfigOption = None,
    plugin_name: Annotated[
        str | None, typer.Option("--plugin", help="SIS plugin whose tables field maps must use")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="do not ask the SIS which codes it uses")
    ] = False,
    as_json: JsonOption = False,
    secrets_dir: SecretsOption = None,
) -> None:
    """Validate code maps, field maps, policy overrides, notice and casework packs and the partner
    directory; exit 1 when any has an error."""
    if not paths and config is None:
        raise _fail(
            "name mapping files to check, or pass --config to check the ones the settings use",
            as_json=as_json,
        )
    report = CheckReport()
    try:
        settings = load_settings(config, secrets_dir=secrets_dir) if config is not None else None
        named = plugin_name or (settings.sis.plugin if settings else None)
        candidates = [named] if named else installed_plugins()
        field_maps = {name: load_plugin(name).check_field_map for name in candidates}
        state = settings.district.state if settings else None
        check_paths(paths or [], report, field_maps=field_maps, state=state)
        if settings is not None:
            _check_settings_files(settings, report, field_maps, offline=offline)
    except USER_ERRORS as exc:
        raise _fail(str(exc), as_json=as_json) from None
    except ConnectorError as exc:
        raise _fail(
            f"cannot read the SIS's attendance codes (use --offline to skip): {exc}", code=3, as_json=as_json
        ) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        _print_report(report, Console())
    if report.errors:
        raise typer.Exit(1)


def _check_settings_files(
    settings: Settings, report: CheckReport, field_maps: Mapping[str, FieldMapCheck], *, offline: bool
) -> None:
    """The files the settings name; then, if they load, the code map in force against the SIS's codes."""
    mappings = settings.mappings
    field_map = (settings.sis.model_extra or {}).get("field_map")
    if mappings.policy_overrides is not None:
        check_policy_override(
            resolve_path(settings, mappings.policy_overrides), report, settings.district.state
        )
    if field_map is not None:
        check_field_map(resolve_path(settings, Path(str(field_map))), report, field_maps)
    if mappings.code_map is not None:
        check_code_map(resolve_path(settings, mappings.code_map), report)
    if settings.casework.pack is not None:
        check_casework(resolve_path(settings, settings.casework.pack), report, settings.district.state)
    if settings.casework.directory is not None:
        directory = resolve_path(settings, settings.casework.directory)
        check_loads(directory, report, FileKind.DIRECTORY, load_directory)
    if report.errors or offline:
        return
    plugin = build_plugin(settings)
    try:
        observed = plugin.discover_codes()
        code_map = _code_map_path(plugin)
    finally:
        plugin.close()
    if mappings.code_map is None:
        check_code_map(code_map, report, observed)
    else:
        check_code_usage(code_map, report, observed)


def _print_report(report: CheckReport, console: Console) -> None:
    for name, kind in report.checked:
        console.print(f"checked {kind.value} {name}", highlight=False)
    for finding in report.findings:
        style = "bold red" if finding.level == "error" else "yellow"
        console.print(f"[{style}]{finding.level}:[/] {finding}", highlight=False)
    console.print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")


@mappings_app.command("impact")
def impact(
    config: RequiredConfig,
    code: Annotated[str | None, typer.Option("--code", help="attendance code to re-map")] = None,
    category: Annotated[Category | None, typer.Option("--as", help="its new category")] = None,
    partial_day: Annotated[
        bool | None, typer.Option("--partial-day/--whole-day", help="default: as the code is mapped now")
    ] = None,
    edited_map: Annotated[Path | None, typer.Option("--map", help="an edited code map to compare")] = None,
    as_json: JsonOption = False,
    secrets_dir: SecretsOption = None,
) -> None:
    """Which students would gain or lose which designation under a changed code map.

    Evaluates the state store's attendance; writes nothing, to the store or the SIS.
    """
    if (edited_map is None) == (code is None or category is None):
        raise _fail("pass either --code X --as CATEGORY, or --map EDITED.yaml", as_json=as_json)
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        policy = build_policy(settings)
        plugin = build_plugin(settings)
        try:
            current = load_code_map(_code_map_path(plugin))
        finally:
            plugin.close()
        if code is not None and category is not None:
            proposed = _remapped(current, code, category, partial_day)
        else:
            proposed = load_code_map(edited_map or Path())
        engine = existing_store(settings)
        try:
            result = preview_impact(engine, policy, current, proposed, date.today())
        finally:
            engine.dispose()
    except USER_ERRORS as exc:
        raise _fail(str(exc), as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
    else:
        _print_impact(result, Console())


def _remapped(current: CodeMap, code: str, category: Category, partial_day: bool | None) -> CodeMap:
    entries = dict(current.entries)
    before = entries.get(code)
    entries[code] = CodeEntry(
        category=category,
        description=before.description if before else "",
        partial_day=partial_day if partial_day is not None else bool(before and before.partial_day),
    )
    return CodeMap(entries, source=f"{current.source} with {code} as {category.value}", digest="")


def _print_impact(result: Impact, console: Console) -> None:
    for change in result.changes:
        rows = result.stored_rows.get(change.code, 0)
        now, then = change.current or "unmapped", change.proposed or "unmapped"
        console.print(f"{change.code}: {now} → {then} ({rows:,} stored row(s))", highlight=False)
    for note in result.not_previewable:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    table = Table("designation", "students gaining", "students losing", title="If the map changed")
    for designation in sorted(result.gained.keys() | result.lost.keys()):
        table.add_row(designation, f"{result.gained[designation]:,}", f"{result.lost[designation]:,}")
    console.print(table)
    console.print(f"{len(result.students):,} student(s) would change; nothing was written.")


@mappings_app.command("history")
def history(config: RequiredConfig, as_json: JsonOption = False, secrets_dir: SecretsOption = None) -> None:
    """Which code map, field map and policy each cycle ran with (digest, file, version).

    Answers "which map was in force when this student got a letter": cycles that ran with the same
    files are one period, and a period that returns to files used before says so.
    """
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        engine = existing_store(settings)
        try:
            files, runs = _read_history(engine)
        finally:
            engine.dispose()
    except USER_ERRORS as exc:
        raise _fail(str(exc), as_json=as_json) from None
    periods = _periods(runs)
    if as_json:
        typer.echo(json.dumps({"cycles": runs, "periods": periods, "versions": files}, indent=2))
        return
    _print_history(periods, Console())


_IN_FORCE = (("code_map", "code_map_digest"), ("field_map", "field_map_digest"), ("policy", "policy_digest"))


def _read_history(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every mapping file version recorded, and every cycle with the files it ran with."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(mapping_files).order_by(mapping_files.c.first_cycle, mapping_files.c.kind)
            ).all()
            cycle_rows = connection.execute(select(cycles).order_by(cycles.c.id)).all()
    except OperationalError:
        raise StoreError(
            f"the state store at {engine.url!r} is not at the newest schema, or has no history yet: "
            "run `truancy db upgrade`"
        ) from None
    files = {
        row.digest: {
            "kind": row.kind,
            "path": row.path,
            "digest": row.digest,
            "version": row.version,
            "first_cycle": row.first_cycle,
            "first_seen": row.first_seen.isoformat(),
        }
        for row in rows
    }
    runs = []
    for row in cycle_rows:
        in_force: dict[str, Any] = {}
        for kind, column in _IN_FORCE:
            digest = getattr(row, column)
            known = files.get(digest or "", {})
            in_force[kind] = (
                {"digest": digest, "path": known.get("path"), "version": known.get("version")}
                if digest
                else None
            )
        runs.append(
            {
                "cycle": row.id,
                "started_at": row.started_at.isoformat() if row.started_at else None,
                "status": row.status,
                "dry_run": bool((row.summary or {}).get("dry_run")),
                **in_force,
            }
        )
    return list(files.values()), runs


def _digests(run: dict[str, Any]) -> tuple[str | None, ...]:
    return tuple((run[kind] or {}).get("digest") for kind, _ in _IN_FORCE)


def _periods(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive cycles with the same files, each naming the earlier period it returns to, if any."""
    periods: list[dict[str, Any]] = []
    for run in runs:
        if periods and _digests(periods[-1]) == _digests(run):
            periods[-1]["last_cycle"] = run["cycle"]
            periods[-1]["cycles"] += 1
            continue
        earlier = next((p for p in periods if _digests(p) == _digests(run)), None)
        periods.append(
            {
                "first_cycle": run["cycle"],
                "last_cycle": run["cycle"],
                "cycles": 1,
                **{kind: run[kind] for kind, _ in _IN_FORCE},
                "same_as_cycles": [earlier["first_cycle"], earlier["last_cycle"]] if earlier else None,
            }
        )
    return periods


def _describe(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "-"
    label = str(entry["digest"])[:12]
    if entry.get("version"):
        label += f" v{entry['version']}"
    return f"{label} {entry.get('path') or ''}".strip()


def _print_history(periods: list[dict[str, Any]], console: Console) -> None:
    table = Table("cycles", "code map", "field map", "policy", "note", title="Mapping files in force")
    for period in periods:
        first, last = period["first_cycle"], period["last_cycle"]
        same = period["same_as_cycles"]
        table.add_row(
            str(first) if first == last else f"{first}-{last}",
            _describe(period["code_map"]),
            _describe(period["field_map"]),
            _describe(period["policy"]),
            f"back to the files of cycles {same[0]}-{same[1]}" if same else "",
        )
    console.print(table)
