"""`truancy mappings discover` and `check` against a sandbox district over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truancy.daemon.cli import app
from truancy.mappings.codemap import load_code_map
from truancy.plugins.powerschool.plugin import DEFAULT_CODE_MAP, DEFAULT_FIELD_MAP
from truancy.sandbox.codes import DISTRICT_CODES
from truancy.sandbox.server import write_daemon_config

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, sandbox_url: str) -> Path:
    path = tmp_path / "truancy.toml"
    write_daemon_config(path, sandbox_url)
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["mappings", *args])
    return result.exit_code, result.output


def test_discover_places_every_plainly_described_sandbox_code_and_leaves_the_rest(
    config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proposals"

    code, output = run("discover", "--config", str(config), "--out", str(out), "--json")

    assert code == 0, output
    report = json.loads(output)
    proposed = load_code_map(out / "codes.proposed.yaml")
    hand_made = load_code_map(DEFAULT_CODE_MAP)
    unmapped = [c["code"] for c in report["codes"] if c["category"] is None]
    assert unmapped == ["A"]  # "Absent - Unverified": a person decides
    assert report["codes"][0]["code"] == "A"
    assert set(proposed.entries) == {c.att_code for c in DISTRICT_CODES} - {"A"}
    for name, entry in proposed.entries.items():
        expected = hand_made.categorize(name)
        assert expected is not None
        assert (entry.category, entry.partial_day) == (expected.category, expected.partial_day), name
    assert all(c["occurrences"] > 0 for c in report["codes"])
    assert {"code": "A", "change": "unmapped in proposal", "current": "unexcused", "proposed": None} in (
        report["differences"]
    )


def test_discover_never_overwrites_a_file(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "maps"
    out.mkdir()
    existing = out / "codes.proposed.yaml"
    existing.write_text("mine\n", encoding="utf-8")

    code, output = run("discover", "--config", str(config), "--out", str(out))

    assert code == 0, output
    assert existing.read_text(encoding="utf-8") == "mine\n"
    assert load_code_map(out / "codes.proposed-2.yaml").categorize("UNX") is not None
    assert "Differences from codes.yaml" in output


CODE_MAP = DEFAULT_CODE_MAP.read_text(encoding="utf-8")
FIELD_MAP = DEFAULT_FIELD_MAP.read_text(encoding="utf-8")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("name", "text", "needle", "key", "problem"),
    [
        (
            "codes.yaml",
            CODE_MAP.replace("T30: {category: tardy", "T30: {category: tardie"),
            "T30:",
            "codes.T30.category",
            "'tardie' is not one of present, excused, unexcused, tardy, suspension",
        ),
        (
            "codes.yaml",
            CODE_MAP.replace("  MED:", "  EX: {category: excused}\n  MED:"),
            "  EX: {category: excused}",
            "codes.EX",
            "duplicated key",
        ),
        ("codes.yaml", CODE_MAP.replace("UNX: {", "UNX: ["), "UNX:", "", "YAML syntax error"),
        (
            "district.yaml",
            "version: 1\npolicy: CA\nrules:\n  truant:\n    threshold: three\n",
            "threshold",
            "rules.truant.threshold",
            "'three' is not a number",
        ),
        (
            "fieldmap.yaml",
            FIELD_MAP.replace("table: U_TRUANCY_NOTES", "table: U_TRUANCY_NOTE"),
            "table: U_TRUANCY_NOTE",
            "note.table",
            "'U_TRUANCY_NOTE' is not a table the plugin defines",
        ),
        (
            "fieldmap.yaml",
            FIELD_MAP.replace("deletable_when: {status: open}", "deletable_when: {title: open}"),
            "deletable_when: {title: open}",
            "task.deletable_when",
            "task field 'title': a retraction condition must name an officer-owned field",
        ),
        (
            "fieldmap.yaml",
            FIELD_MAP.replace("label: label", "label: labl"),
            "label: labl",
            "flag.columns.label",
            "'labl' is not a column of U_TRUANCY_FLAGS",
        ),
    ],
)
def test_check_names_file_line_and_key_and_fails(
    tmp_path: Path, name: str, text: str, needle: str, key: str, problem: str
) -> None:
    path = write(tmp_path, name, text)

    code, output = run("check", str(path), "--json")

    assert code == 1, output
    (error,) = json.loads(output)["findings"]
    assert (error["level"], error["file"], error["line"], error["key"]) == (
        "error",
        name,
        line_of(text, needle),
        key,
    )
    assert problem in error["message"]


def test_check_passes_good_files_and_warns_about_an_override_looser_than_the_statute(tmp_path: Path) -> None:
    codes = write(tmp_path, "codes.yaml", CODE_MAP)
    fields = write(tmp_path, "fieldmap.yaml", FIELD_MAP)
    looser = write(tmp_path, "district.yaml", "version: 1\npolicy: CA\nrules:\n  truant:\n    threshold: 5\n")

    code, output = run("check", str(codes), str(fields), str(looser), "--json")

    assert code == 0, output
    report = json.loads(output)
    assert [c["kind"] for c in report["checked"]] == ["code map", "field map", "policy override"]
    assert report["errors"] == 0
    (warning,) = report["findings"]
    assert warning["level"] == "warning"
    assert "truant" in warning["message"]


def test_check_with_settings_fails_on_codes_the_sis_uses_but_the_map_lacks(
    config: Path, tmp_path: Path
) -> None:
    text = CODE_MAP.replace("  A: {category: unexcused", "  ZZ: {category: unexcused")
    write(tmp_path, "codes.yaml", text)
    with config.open("a", encoding="utf-8") as settings:
        settings.write('\n[mappings]\ncode_map = "codes.yaml"\n')

    code, output = run("check", "--config", str(config), "--json")

    assert code == 1, output  # the SIS's A rows would be quarantined: a deployment gate must stop
    findings = {f["key"]: f for f in json.loads(output)["findings"]}
    assert findings["codes"]["level"] == "error"
    assert findings["codes"]["message"].startswith("code 'A' (Absent - Unverified) occurs")
    assert findings["codes.ZZ"]["level"] == "warning"
    assert findings["codes.ZZ"]["line"] == line_of(text, "ZZ:")
    assert "not defined in the SIS" in findings["codes.ZZ"]["message"]


def test_check_with_settings_and_a_broken_map_fails_without_asking_the_sis(tmp_path: Path) -> None:
    config = write(tmp_path, "truancy.toml", '[mappings]\ncode_map = "codes.yaml"\n')
    write(tmp_path, "codes.yaml", CODE_MAP.replace("category: suspension", "category: suspended"))

    code, output = run("check", "--config", str(config))

    assert code == 1, output
    assert "codes.yaml:" in output
    assert "codes.SUS.category" in output
