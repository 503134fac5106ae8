"""``truancy packet build``: one student's SARB, court or SAIC packet as a PDF."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from truancy.connector.errors import ConnectorError
from truancy.daemon.casework import district_casework
from truancy.daemon.cli_errors import fail
from truancy.daemon.files import FileAccessError
from truancy.daemon.packets import PacketError, build_student_packet, partner_names
from truancy.daemon.runtime import privacy, runtime
from truancy.daemon.settings import SettingsError, load_settings, resolve_path
from truancy.daemon.store import StoreError
from truancy.mappings.codemap import MappingFileError

packet_app = typer.Typer(
    help="Referral packets (SARB, court, SAIC).", no_args_is_help=True, rich_markup_mode=None
)
Kind = Literal["sarb", "court", "saic"]


@packet_app.command("build")
def packet_build(
    student: Annotated[str, typer.Option("--student", help="the student's key as the SIS knows it")],
    kind: Annotated[Kind, typer.Option("--kind", help="sarb, court or saic")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="settings TOML file")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="PDF to write (default: [casework] packets_dir)")
    ] = None,
    secrets_dir: Annotated[
        Path | None, typer.Option("--secrets-dir", help="directory of secret files")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object for machines")] = False,
) -> None:
    """Build the packet for a student with a case, complete or not: its checklist names what is missing."""
    try:
        settings = load_settings(config, secrets_dir=secrets_dir)
        pack = district_casework(settings)
        if pack is None:
            state = settings.district.state
            raise PacketError(f"no casework pack for {state} yet: name the district's own in [casework] pack")
        today = datetime.now(settings.district.zone).date()  # the district's today, as the law counts
        with runtime(settings) as rt:
            target = (
                out or resolve_path(settings, settings.casework.packets_dir) / f"{kind}-{student}-{today}.pdf"
            )
            case_file = getattr(rt.plugin, "casework_file", None)
            path, facts = build_student_packet(
                rt.engine,
                rt.plugin,
                pack,
                sis_ref=student,
                kind=kind,
                district=settings.district.name,
                today=today,
                out=target,
                privacy=privacy(settings),
                case_file=case_file,
                partner_names=partner_names(settings),
            )
    except (SettingsError, MappingFileError, PacketError, StoreError, FileAccessError) as exc:
        raise fail(str(exc), as_json=as_json) from None
    except ConnectorError as exc:
        raise fail(f"SIS: {exc}", code=3, as_json=as_json) from None
    missing = [item.id for item in facts.missing]
    if as_json:
        typer.echo(json.dumps({"path": str(path), "complete": not missing, "missing": missing}))
        return
    console = Console()
    console.print(f"packet written to {path}")
    console.print("checklist complete" if not missing else f"missing: {', '.join(missing)}")
