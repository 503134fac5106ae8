"""`truancy mappings check` on the district's casework files: the partner directory and a casework
pack override, named on the command line (kind told by content) or by the settings' [casework]
section; every error as file, line and key, and a pack for another state refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.daemon.test_mappings_commands import line_of, write
from truancy.daemon.cli import app
from truancy.mappings.casework import CASEWORK_DIR

runner = CliRunner()
DIRECTORY = """\
partners:
  - id: family_resource_center
    name: Family Resource Center
    services: [counselling, housing]
    languages: [en, es]
    ages: {min: 5, max: 18}
    contact: {phone: "555-0100"}
    consent_required: true
  - id: mentors
    name: Big Siblings
    services: [mentoring]
    languages: [en]
    ages: {min: 6, max: 17}
    contact: {email: match@example.org}
    consent_required: false
"""
IL_PACK = (CASEWORK_DIR / "il.yaml").read_text(encoding="utf-8")


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["mappings", "check", *args, "--json"])
    return result.exit_code, json.loads(result.output)


def test_good_casework_files_pass_as_the_kinds_their_content_shows(tmp_path: Path) -> None:
    directory = write(tmp_path, "partners.yaml", DIRECTORY)
    pack = write(tmp_path, "casework.yaml", IL_PACK)

    code, report = check(str(directory), str(pack))

    assert code == 0, report
    assert [c["kind"] for c in report["checked"]] == ["partner directory", "casework pack"]
    assert report["findings"] == []


def test_every_bad_file_is_named_with_its_line_and_key(tmp_path: Path) -> None:
    directory_text = DIRECTORY.replace("max: 17", "max: 4")
    pack_text = IL_PACK.replace(
        "referral: {statuses: [started, completed]}", "referral: {statuses: [begun]}", 1
    )
    directory = write(tmp_path, "partners.yaml", directory_text)
    pack = write(tmp_path, "casework.yaml", pack_text)

    code, report = check(str(directory), str(pack))

    assert code == 1, report
    found = {(f["file"], f["line"], f["key"]): f["message"] for f in report["findings"]}
    assert found == {
        (
            str(directory),
            line_of(directory_text, "max: 4"),
            "partners.1.ages",
        ): "min age 6 is above max age 4",
        (
            str(pack),
            line_of(pack_text, "statuses: [begun]"),
            "escalations.0.requires.0.referral.statuses.0",
        ): "'begun' is not one of made, accepted, started, completed, declined",
    }


def test_the_settings_files_are_checked_and_a_pack_for_another_state_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "partners.yaml", DIRECTORY.replace("services: [mentoring]", "services: []"))
    write(tmp_path, "casework.yaml", IL_PACK)
    settings = '[district]\nstate = "FL"\n\n[casework]\npack = "casework.yaml"\ndirectory = "partners.yaml"\n'
    config = write(tmp_path, "truancy.toml", settings)

    code, report = check("--config", str(config), "--offline")

    assert code == 1, report
    assert [c["kind"] for c in report["checked"]] == ["casework pack", "partner directory"]
    (state, services) = report["findings"]
    assert (state["file"], state["line"], state["key"]) == (
        str(tmp_path / "casework.yaml"),
        line_of(IL_PACK, "state: IL"),
        "state",
    )
    assert state["message"].startswith("the pack is for IL but the district is in FL")
    assert (services["line"], services["key"]) == (
        line_of(DIRECTORY, "services: [mentoring]"),
        "partners.1.services",
    )


def test_a_settings_file_that_is_missing_is_an_error_not_a_crash(tmp_path: Path) -> None:
    config = write(tmp_path, "truancy.toml", '[casework]\ndirectory = "partners.yaml"\n')

    code, report = check("--config", str(config), "--offline")

    assert code == 1, report
    (missing,) = report["findings"]
    assert missing["file"] == str(tmp_path / "partners.yaml")
    assert missing["message"].startswith("cannot read the partner directory")
