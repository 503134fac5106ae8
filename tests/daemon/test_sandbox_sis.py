"""Capabilities through the entry point: no daemon command names a product.

``sandbox serve --sis``, ``demo --sis`` and ``plugin build`` offer what the installed plugins offer;
an Ed-Fi district configured the way ``sandbox serve --sis edfi --write-config`` writes it syncs
three times over HTTP (exit 0, the later cycles write nothing), passes ``mappings check --config``
with the plugin's own maps, and ``status`` shows the lag the plugin reports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.cli import app
from truancy.daemon.runtime import build_plugin
from truancy.daemon.sandbox_sis import SandboxSis
from truancy.daemon.settings import SettingsError, load_settings
from truancy.plugins.base import offering
from truancy.sandbox.server import SandboxServer, sandbox_facts, write_daemon_config

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_the_sandbox_offers_every_plugin_with_sandbox_settings() -> None:
    result = runner.invoke(app, ["sandbox", "serve", "--help"])
    assert result.exit_code == 0
    assert "[powerschool|edfi]" in result.output
    assert offering("sandbox_settings") == ["edfi", "powerschool"]


@pytest.mark.parametrize("shipped", ["plugins/edfi/fieldmap.yaml", "plugins/powerschool/fieldmap.yaml"])
def test_each_plugins_shipped_field_map_passes_the_check(shipped: str) -> None:
    result = runner.invoke(app, ["mappings", "check", str(REPO / shipped)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_a_field_map_for_another_plugin_fails_when_the_plugin_is_named() -> None:
    result = runner.invoke(
        app, ["mappings", "check", "--plugin", "powerschool", str(REPO / "plugins/edfi/fieldmap.yaml")]
    )
    assert result.exit_code == 1
    assert "flag.table" in result.output


def test_only_plugins_with_a_bundle_build_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plugin", "build", "edfi", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no plugin bundle for 'edfi'; available: powerschool" in result.output


def test_the_sandbox_code_map_is_the_default_map_plus_the_sandbox_districts_own_descriptor() -> None:
    default = yaml.safe_load((REPO / "plugins/edfi/codes.yaml").read_text(encoding="utf-8"))["codes"]
    sandbox = yaml.safe_load((REPO / "plugins/edfi/sandbox-codes.yaml").read_text(encoding="utf-8"))["codes"]
    assert {code: sandbox[code] for code in default} == default
    assert [code for code in sandbox if code not in default] == [
        "uri://sandbox.k12.example.org/AttendanceEventCategoryDescriptor#Out-of-School Suspension"
    ]


@pytest.mark.slow
def test_an_edfi_sandbox_config_syncs_three_times_checks_clean_and_shows_its_lag(tmp_path: Path) -> None:
    config = tmp_path / "truancy.toml"
    with SandboxServer(students=100, seed=2, as_of=PINNED_AS_OF) as server:
        section = SandboxSis("edfi").section(sandbox_facts(server.url, server.as_of))
        write_daemon_config(config, server.url, section)
        cycles = [runner.invoke(app, ["sync", "--once", "--config", str(config), "--json"]) for _ in range(3)]
        check = runner.invoke(app, ["mappings", "check", "--config", str(config)])
        status = runner.invoke(app, ["status", "--config", str(config), "--json"])
    assert [cycle.exit_code for cycle in cycles] == [0, 0, 0], [c.output[-400:] for c in cycles]
    writes = [json.loads(cycle.output)["writes"] for cycle in cycles]
    assert writes[0]["created"] > 0
    assert [(w["created"], w["updated"], w["deleted"]) for w in writes[1:]] == [(0, 0, 0), (0, 0, 0)]
    assert check.exit_code == 0, check.output
    assert "0 error(s)" in check.output
    streams = json.loads(status.output)["streams"]
    assert streams["roster"]["lag_seconds"] is not None
    assert streams["attendance"]["lag_seconds"] is not None


def test_a_code_map_set_in_two_places_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "truancy.toml"
    config.write_text(
        '[mappings]\ncode_map = "a.yaml"\n\n[sis]\nplugin = "edfi"\ncode_map = "b.yaml"\n', encoding="utf-8"
    )
    with pytest.raises(SettingsError, match=r"set twice, as mappings.code_map and as sis.code_map"):
        build_plugin(load_settings(config))


def test_a_second_edfi_store_is_refused_until_it_adopts_the_first_ones_rows(tmp_path: Path) -> None:
    """Ed-Fi records have no column of ours: the instance id rides in the flag's designatedBy and the
    task's statement tag, so a second store for one Ed-Fi district is refused as on PowerSchool."""
    first, second = tmp_path / "first" / "truancy.toml", tmp_path / "second" / "truancy.toml"
    with SandboxServer(students=100, seed=2, as_of=PINNED_AS_OF) as server:
        section = SandboxSis("edfi").section(sandbox_facts(server.url, server.as_of))
        for config in (first, second):
            config.parent.mkdir()
            write_daemon_config(config, server.url, section)
        written = runner.invoke(app, ["sync", "--once", "--config", str(first), "--json"])
        refused = runner.invoke(app, ["sync", "--once", "--config", str(second), "--json"])
        found = re.search(r"instance ([0-9a-f]{16})\b", json.loads(refused.stdout)["error"]["message"])
        assert found is not None, refused.stdout
        writer = found.group(1)
        adopted = runner.invoke(app, ["db", "adopt", "--config", str(second), "--instance", writer])
        taken_over = runner.invoke(app, ["sync", "--once", "--config", str(second), "--json"])
        again = runner.invoke(app, ["sync", "--once", "--config", str(second), "--json"])
        first_again = runner.invoke(app, ["sync", "--once", "--config", str(first), "--json"])

    assert written.exit_code == 0, written.output[-400:]
    assert json.loads(written.stdout)["writes"]["created"] > 0
    assert refused.exit_code == 3
    assert "truancy db adopt --config" in refused.stdout
    assert adopted.exit_code == 0, adopted.output
    assert taken_over.exit_code == 0, taken_over.output[-400:]
    # the adopting store stamps the flags and tasks with its own id, once; notes are never rewritten
    assert json.loads(taken_over.stdout)["writes"]["updated"] > 0
    repeat = json.loads(again.stdout)["writes"]
    assert (repeat["created"], repeat["updated"], repeat["deleted"]) == (0, 0, 0)
    assert first_again.exit_code == 3
