"""`truancy plugin build powerschool --out DIR` writes the installable zip with its page fragments."""

from __future__ import annotations

import zipfile
from pathlib import Path

from typer.testing import CliRunner

from truancy.daemon.cli import app


def test_plugin_build_writes_the_zip_and_prints_its_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["plugin", "build", "powerschool", "--out", str(tmp_path), "--contact-email", "it@example.org"]
    )
    assert result.exit_code == 0, result.output
    built = Path(result.output.strip())
    assert built.parent == tmp_path
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
        assert "web_root/admin/students/home.truancy_sync.content.header.txt" in names
        assert "web_root/scripts/truancy_sync/truancy_sync.js" in names
        assert b"it@example.org" in archive.read("plugin.xml")


def test_plugin_build_names_the_products_it_can_build(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plugin", "build", "skyward", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "powerschool" in result.output
    assert not list(tmp_path.iterdir())
