"""How every command fails: one line on stderr for people, and with ``--json`` one object on stdout.

A script that asked for ``--json`` must be able to parse the output of a failed run too, so the
error is a JSON object there (``{"error": {"message": ..., "exit_code": ...}}``), never silence.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console

err = Console(stderr=True)


def fail(message: str, code: int = 2, *, as_json: bool = False) -> typer.Exit:
    """The exit to raise; prints ``message`` (one line) and, for ``--json``, the error object."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps({"error": {"message": message, "exit_code": code}}, indent=2))
    return typer.Exit(code)
