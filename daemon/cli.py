"""The ``truancy`` command line: one entry point for districts, administrators and IT staff."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from truancy.connector.errors import ConnectorError
from truancy.daemon.casework import district_casework
from truancy.daemon.casework_invitations import invitation_cycle
from truancy.daemon.casework_progress import progress_cycle
from truancy.daemon.cli_errors import fail
from truancy.daemon.family_notices_cli import approve_command
from truancy.daemon.lock import DistrictLock, LockHeldError
from truancy.daemon.logs import bind_context, configure_logging
from truancy.daemon.mappings_commands import mappings_app
from truancy.daemon.notices_cli import notices_app
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.packets import packet_cycle
from truancy.daemon.packets_command import packet_app
from truancy.daemon.pipeline import SyncPipeline, error_class
from truancy.daemon.policy_command import policy_app
from truancy.daemon.progress import reporter
from truancy.daemon.readonly import existing_store
from truancy.daemon.report_command import report_app
from truancy.daemon.runtime import runtime, store_engine
from truancy.daemon.sandbox_sis import sis_choices
from truancy.daemon.settings import Settings, SettingsError, load_settings
from truancy.daemon.status import read_status, render_status
from truancy.daemon.store import StoreError, upgrade
from truancy.mappings.codemap import MappingFileError
from truancy.mappings.fieldmap import FieldMapError
from truancy.plugins.base import PluginConfigError

app = typer.Typer(
    name="truancy",
    help="Statute-aware truancy cases, synced with your student information system.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # click's plain help: a flag shows no `<bool>` value
)
sandbox_app = typer.Typer(
    help="The built-in simulated district SIS.", no_args_is_help=True, rich_markup_mode=None
)
db_app = typer.Typer(help="The state store.", no_args_is_help=True, rich_markup_mode=None)
plugin_app = typer.Typer(help="SIS plugin bundles.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(db_app, name="db")
app.add_typer(mappings_app, name="mappings")
app.add_typer(plugin_app, name="plugin")
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
app.add_typer(packet_app, name="packet")
app.add_typer(notices_app, name="notices")
notices_app.command("approve")(approve_command)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="settings TOML file (see config/truancy.example.toml)", exists=False),
]
SecretsOption = Annotated[
    Path | None, typer.Option("--secrets-dir", help="directory of secret files (e.g. /run/credentials)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object for machines")]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the sandbox's today: its school year, attendance up to the day before (default: today there)",
    ),
]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR")]

SandboxSisChoice = sis_choices()
SisOption = Annotated[
    SandboxSisChoice,  # type: ignore[valid-type]
    typer.Option(
        "--sis",
        help="the SIS the sandbox stands in for (the plugin the config points at)",
        metavar=f"[{'|'.join(SandboxSisChoice)}]",
    ),
]
SIS_DEFAULT = SandboxSisChoice("powerschool")

USER_ERRORS = (SettingsError, PluginConfigError, MappingFileError, FieldMapError, StoreError, LockHeldError)
err = Console(stderr=True)


def _sandbox_day(as_of: str | None) -> date | None:
    """``--as-of`` as a date; None keeps the sandbox in the district's present."""
    if as_of is None:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


EXIT_QUARANTINED = 4
"""`sync` finished, but some records are quarantined and the cases resting on them are held."""
EXIT_HELD_BACK = 5
"""`sync` wrote nothing: the retraction guard held the cycle back (`--allow-retractions` to proceed)."""


def _fail(message: str, code: int = 2, *, as_json: bool = False) -> typer.Exit:
    return fail(message, code, as_json=as_json)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"truancy-sync {package_version('truancy-sync')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Statute-aware truancy cases, synced with your student information system."""


@contextmanager
def _sole_writer(settings: Settings) -> Iterator[None]:
    """The district lock, which every command that writes holds (``truancy run`` takes the same)."""
    engine = store_engine(settings)
    try:
        with DistrictLock(engine, settings.district.id):
            yield
    finally:
        engine.dispose()


@contextmanager
def _upgraded_store(settings: Settings) -> Iterator[Engine]:
    """The store at the newest schema, under the district lock, for the ``db`` commands."""
    with _sole_writer(settings):
        engine = store_engine(settings)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


@app.command()
def sync(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="run one cycle and exit")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="ignore bookmarks: re-read every stream, evaluate every student")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="plan the writes, send none")] = False,
    allow_retractions: Annotated[
        bool,
        typer.Option(
            "--allow-retractions",
            help="write this cycle even if it withdraws more open flags/tasks than [sync] allows",
        ),
    ] = False,
    as_json: JsonOption = False,
    secrets_dir: SecretsOption = None,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Pull, evaluate and write back once (``truancy run`` keeps doing it on a schedule).

    Exit codes: 0 done; 1 the cycle recorded errors; 2 bad settings or files; 3 the SIS could not
    be reached; 4 done, but records are quarantined (cases resting on them are held); 5 the
    retraction guard held every write back (see `truancy status`).
    """
    from truancy.daemon.access_log import record_access
    from truancy.daemon.exposure import refuse_exposed
    from truancy.daemon.guard import RetractionGuard

    if not once:
        raise _fail(
            "`truancy sync` runs a single cycle: pass --once (use `truancy run` for the service)",
            as_json=as_json,
        )
    configure_logging(log_level)
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        refuse_exposed(settings, config, secrets_dir)  # as ssh refuses a key others can read
        bind_context(district=settings.district.id)
        with (
            _sole_writer(settings),
            runtime(settings) as rt,
            reporter(None if not as_json else False) as progress,
        ):
            pipeline = SyncPipeline(
                rt.engine,
                rt.plugin,
                rt.policy,
                reporter=progress,
                dry_run=dry_run,
                reconcile_every=timedelta(hours=settings.sync.full_reconcile_hours),
                timezone=settings.district.zone,
                guard=RetractionGuard.from_settings(settings.sync, allow=allow_retractions),
                write_concurrency=settings.sync.write_concurrency,
                caseloads=settings.caseloads,
                outcomes=settings.outcomes,
                district=settings.district.id,
                invitations=invitation_cycle(rt, secrets_dir=secrets_dir),
                packets=packet_cycle(rt),
                progress=progress_cycle(rt),
                casework=district_casework(rt.settings),
                notices=notice_cycle(rt, secrets_dir=secrets_dir),
            )
            summary = pipeline.run_cycle(full=full)
            if summary.dry_run:  # the per-student plan is about to leave the store
                record_access(rt.engine, "dry-run plan", students=len(summary.student_plans))
    except USER_ERRORS as exc:
        raise _fail(str(exc), as_json=as_json) from None
    except ConnectorError as exc:
        raise _fail(f"{error_class(exc)} error: {exc}", code=3, as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
    else:
        from truancy.daemon.report import print_summary

        print_summary(summary, Console())
        if summary.dry_run:
            from truancy.daemon.dry_run import print_student_plans

            print_student_plans(summary.student_plans, Console())
    if not summary.ok:
        raise typer.Exit(1)
    if summary.blocked is not None:
        raise typer.Exit(EXIT_HELD_BACK)
    if summary.anything_quarantined:
        raise typer.Exit(EXIT_QUARANTINED)


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="run one cycle now and exit (for cron)")] = False,
    secrets_dir: SecretsOption = None,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Run sync cycles on the configured schedule until stopped (SIGTERM), reloading on SIGHUP."""
    from truancy.daemon.schedule import ScheduleError
    from truancy.daemon.service import Options, SyncService
    from truancy.daemon.web import HealthPortError

    configure_logging(log_level)
    try:
        code = SyncService(Options(config, secrets_dir=secrets_dir)).run(once=once)
    except (*USER_ERRORS, ScheduleError, HealthPortError) as exc:
        raise _fail(str(exc)) from None
    except ConnectorError as exc:
        raise _fail(f"{error_class(exc)} error: {exc}", code=3) from None
    raise typer.Exit(code)


@app.command()
def status(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    secrets_dir: SecretsOption = None,
) -> None:
    """Sync health from the state store; exits 1 when unhealthy, so monitoring can use it."""
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        engine = existing_store(settings)
        try:
            report = read_status(engine)
        finally:
            engine.dispose()
    except USER_ERRORS as exc:
        raise _fail(str(exc), as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        render_status(report, Console())
    if not report.healthy:
        raise typer.Exit(1)


@app.command()
def demo(
    students: Annotated[int, typer.Option(help="size of the sandbox district")] = 2000,
    seed: Annotated[int, typer.Option(help="generator seed")] = 1,
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its state file")] = Path("demo-state"),
    serve: Annotated[
        bool, typer.Option("--serve", help="keep the sandbox up afterwards (until Ctrl-C) to browse it")
    ] = False,
    as_of: AsOfOption = None,
    sis: SisOption = SIS_DEFAULT,
) -> None:
    """Run one full sync against a built-in sandbox district and show what it did."""
    from truancy.daemon.demo import run_demo
    from truancy.sandbox.server import SandboxPortError

    configure_logging("WARNING")
    day = _sandbox_day(as_of)
    try:
        run_demo(
            students=students, seed=seed, workdir=workdir, serve=serve, console=Console(), as_of=day, sis=sis
        )
    except USER_ERRORS as exc:
        raise _fail(str(exc)) from None
    except ConnectorError as exc:
        raise _fail(f"{error_class(exc)} error: {exc}", code=3) from None
    except SandboxPortError as exc:
        raise _fail(str(exc)) from None


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0 picks a free one)")] = 8787,
    students: Annotated[int, typer.Option(help="number of students")] = 2000,
    seed: Annotated[int, typer.Option(help="generator seed")] = 1,
    write_config: Annotated[
        Path | None, typer.Option("--write-config", help="write a daemon config pointing at this sandbox")
    ] = None,
    as_of: AsOfOption = None,
    sis: SisOption = SIS_DEFAULT,
    latency_ms: Annotated[
        int, typer.Option("--latency-ms", help="delay every response this long, as a remote SIS would")
    ] = 0,
    max_concurrent: Annotated[
        int | None,
        typer.Option("--max-concurrent", help="answer requests beyond this many in flight with 429"),
    ] = None,
) -> None:
    """Serve a simulated district SIS (OneRoster 1.1/1.2, PowerSchool, Ed-Fi) in the foreground;
    ``--write-config`` points the chosen plugin at it, whose page fragments the SIS pages show.
    ``--latency-ms`` and ``--max-concurrent`` give it a remote SIS's pace (also PUT /_sandbox/pacing)."""
    from truancy.daemon.sandbox_sis import SandboxSis
    from truancy.sandbox.pacing import PacingError, PacingSettings
    from truancy.sandbox.server import serve

    product = SandboxSis(sis)
    try:
        pacing = PacingSettings(latency_ms=latency_ms, max_concurrent=max_concurrent)
    except PacingError as exc:
        raise _fail(f"sandbox pacing: {exc}") from None

    serve(
        host=host,
        port=port,
        students=students,
        seed=seed,
        write_config=write_config,
        sis_settings=product.section,
        fragments_dir=product.fragments,
        as_of=_sandbox_day(as_of),
        pacing=pacing,
    )


@plugin_app.command("build")
def plugin_build(
    product: Annotated[str, typer.Argument(help="the SIS plugin whose bundle to build")],
    out: Annotated[Path, typer.Option("--out", help="directory to write the installable zip into")],
    contact_email: Annotated[
        str | None, typer.Option("--contact-email", help="the district's contact shown in PowerSchool")
    ] = None,
) -> None:
    """Build the plugin zip a district installs in its SIS (versioned from this package)."""
    from truancy.plugins.base import BundleError, load_plugin, offering

    with_bundles = offering("bundle")
    if product not in with_bundles:
        raise _fail(f"no plugin bundle for {product!r}; available: {', '.join(with_bundles) or 'none'}")
    bundle = load_plugin(product).capabilities().bundle
    assert bundle is not None
    try:
        built = bundle.build(out, contact_email=contact_email)
    except BundleError as exc:
        raise _fail(str(exc)) from None
    typer.echo(str(built))


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None, secrets_dir: SecretsOption = None) -> None:
    """Create or migrate the state store to the newest schema."""
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        with _upgraded_store(settings):
            typer.echo("state store is at the newest schema")
    except USER_ERRORS as exc:
        raise _fail(str(exc)) from None


@db_app.command("adopt")
def db_adopt(
    instance: Annotated[
        str, typer.Option("--instance", help="the other store's instance id, as the refusal named it")
    ],
    config: ConfigOption = None,
    secrets_dir: SecretsOption = None,
) -> None:
    """Take over the SIS rows another state store wrote (this store replaces it for the district).

    Stop the other daemon first: the next sync rewrites its rows with this store's instance id.
    """
    from truancy.daemon.instance import adopt

    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        with _upgraded_store(settings) as engine:
            own = adopt(engine, instance.strip())
    except USER_ERRORS as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"this store ({own}) adopts the rows of instance {instance.strip()}; the next sync takes them over"
    )


@app.command()
def purge(
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what would go, destroy nothing")] = False,
    as_json: JsonOption = False,
    secrets_dir: SecretsOption = None,
) -> None:
    """Destroy what is past the retention periods in [retention]; logs counts and dates, never ids."""
    from truancy.daemon.lock import LockHeldError
    from truancy.daemon.purge import print_purge, run_purge

    try:
        report = run_purge(load_settings(config, secrets_dir=secrets_dir), dry_run=dry_run)
    except (*USER_ERRORS, LockHeldError) as exc:
        raise _fail(str(exc), as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        print_purge(report, Console())
    if report.file_errors:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
