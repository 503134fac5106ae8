"""Issue 11, findings 4, 9 and 12: one writer per district, audit of dry runs and maps, CLI hygiene.

Every test drives the ``truancy`` command line (typer's CliRunner, or a subprocess where a process
boundary matters) against the sandbox SIS over real HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import typer
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import TABLES, District, sandbox_district
from truancy.daemon.cli import app
from truancy.daemon.store import create_store_engine
from truancy.daemon.web import HealthApp, HealthServer, LiveState
from truancy.mappings.writes import is_sync_key
from truancy.sandbox.server import write_daemon_config

runner = CliRunner()
TRUANCY = [sys.executable, "-c", "from truancy.daemon.cli import main; main()"]


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with sandbox_district(tmp_path, students=120) as district:
        yield district


def _second_store(district: District, tmp_path: Path) -> Path:
    """The same district and SIS, with another state store (a copy on another host, say)."""
    other = tmp_path / "other"
    other.mkdir()
    text = district.config.read_text(encoding="utf-8")
    first_store = str(tmp_path / "truancy-state.db")
    assert first_store in text
    config = other / "truancy.toml"
    _write_private(config, text.replace(first_store, str(other / "truancy-state.db")))
    return config


def _write_private(path: Path, text: str) -> None:
    """A settings file with a secret inline, readable by its owner only (sync refuses it otherwise)."""
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def _writers(district: District, tables: tuple[str, ...] = TABLES) -> set[str]:
    """The writer of every row the daemon wrote (officers' own rows have no sync key and no writer)."""
    return {
        row.get("writer", "")
        for table, rows in district.sis_rows().items()
        if table in tables
        for row in rows
        if is_sync_key(row.get("sync_key"))
    }


# -- finding 4: one writer per district -------------------------------------------------------


def test_a_second_store_is_refused_until_it_adopts_the_first_ones_rows(
    district: District, tmp_path: Path
) -> None:
    code, _, stderr = cli("sync", "--once", "--config", str(district.config))
    assert code == 0, stderr
    (first,) = _writers(district)
    assert len(first) == 16
    rows_before = {table: len(rows) for table, rows in district.sis_rows().items()}
    other = _second_store(district, tmp_path)

    code, stdout, stderr = cli("sync", "--once", "--config", str(other), "--json")

    assert code == 3
    error = json.loads(stdout)["error"]
    assert f"instance {first}" in error["message"]
    assert "truancy db adopt --config" in error["message"]
    assert f"--instance {first}" in error["message"]
    assert len(stderr.strip().splitlines()) == 1
    assert {table: len(rows) for table, rows in district.sis_rows().items()} == rows_before
    assert _writers(district) == {first}

    code, stdout, stderr = cli("db", "adopt", "--config", str(other), "--instance", first)
    assert code == 0, stderr
    code, _, stderr = cli("sync", "--once", "--config", str(other))
    assert code == 0, stderr
    # flags and tasks are rewritten with the adopting store's id; notes, the case log, are never
    # rewritten, and stay accepted as adopted
    (second,) = _writers(district, ("U_TRUANCY_FLAGS", "U_TRUANCY_TASKS"))
    assert second not in ("", first)
    assert _writers(district, ("U_TRUANCY_NOTES",)) == {first}
    assert {table: len(rows) for table, rows in district.sis_rows().items()} == rows_before

    code, _, stderr = cli("sync", "--once", "--config", str(district.config))
    assert code == 3
    assert f"instance {second}" in stderr


def test_sync_once_and_db_upgrade_are_refused_while_run_holds_the_district_lock(
    district: District, tmp_path: Path
) -> None:
    with district.config.open("a", encoding="utf-8") as settings:
        settings.write("\n[health]\nport = 0\n")
    service = subprocess.Popen(
        [*TRUANCY, "run", "--config", str(district.config), "--log-level", "ERROR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = tmp_path / "truancy-state.db.lock"
    try:
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text(encoding="utf-8").strip() == str(service.pid)):
            assert service.poll() is None, service.stderr.read() if service.stderr else ""
            assert time.monotonic() < deadline, "truancy run never took the lock"
            time.sleep(0.1)

        for command in (["sync", "--once"], ["db", "upgrade"]):
            done = subprocess.run(
                [*TRUANCY, *command, "--config", str(district.config)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 2, done.stderr
            assert "already being synced" in done.stderr
            assert str(service.pid) in done.stderr
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
        if service.stderr is not None:
            service.stderr.close()
    code, _, stderr = cli("db", "upgrade", "--config", str(district.config))
    assert code == 0, stderr


def test_a_writing_command_names_a_missing_store_folder(tmp_path: Path) -> None:
    config = tmp_path / "truancy.toml"
    write_daemon_config(config, "http://127.0.0.1:9")
    text = config.read_text(encoding="utf-8").replace(
        str(tmp_path / "truancy-state.db"), str(tmp_path / "gone" / "s.db")
    )
    config.write_text(text, encoding="utf-8")
    code, _, stderr = cli("db", "upgrade", "--config", str(config))
    assert code == 2
    assert f"the state store's folder {tmp_path / 'gone'} does not exist" in " ".join(stderr.split())


# -- finding 9: audit -------------------------------------------------------------------------


def test_a_dry_run_is_marked_in_status_its_json_and_the_status_page(district: District) -> None:
    assert cli("sync", "--once", "--config", str(district.config))[0] == 0
    code, _, stderr = cli("sync", "--once", "--dry-run", "--config", str(district.config))
    assert code == 0, stderr

    code, stdout, _ = cli("status", "--config", str(district.config), "--json")
    report = json.loads(stdout)
    assert [c["dry_run"] for c in report["recent_cycles"]] == [True, False]
    assert report["healthy"] is True
    code, stdout, _ = cli("status", "--config", str(district.config))
    (dry_line,) = [line for line in stdout.splitlines() if "DRY RUN" in line]
    assert dry_line.split()[1] == "2"

    engine = create_store_engine(district.settings.store.url)
    server = HealthServer(
        HealthApp(lambda: engine, CollectorRegistry(), LiveState("d"), timedelta(days=1)), "127.0.0.1", 0
    )
    server.start()
    try:
        page = requests.get(server.url + "/", timeout=10).text
    finally:
        server.stop()
        engine.dispose()
    assert page.count("DRY RUN") == 1


def test_mappings_history_shows_the_files_of_each_cycle_and_a_return_to_an_earlier_map(
    district: District, tmp_path: Path
) -> None:
    from truancy.plugins.powerschool.build import bundle_dir

    shipped = bundle_dir().parent / "codes.yaml"
    edited = tmp_path / "codes-edited.yaml"
    edited.write_text(
        shipped.read_text(encoding="utf-8") + "\n# reviewed by the district\n", encoding="utf-8"
    )
    base = district.config.read_text(encoding="utf-8")
    for extra in ("", f'\n[mappings]\ncode_map = "{edited}"\n', ""):
        district.config.write_text(base + extra, encoding="utf-8")
        code, _, stderr = cli("sync", "--once", "--config", str(district.config))
        assert code == 0, stderr

    code, stdout, stderr = cli("mappings", "history", "--config", str(district.config), "--json")

    assert code == 0, stderr
    history = json.loads(stdout)
    maps = [c["code_map"]["digest"] for c in history["cycles"]]
    assert maps[0] == maps[2] != maps[1]
    assert all(c["policy"]["version"] and c["field_map"]["digest"] for c in history["cycles"])
    periods = history["periods"]
    assert [(p["first_cycle"], p["last_cycle"]) for p in periods] == [(1, 1), (2, 2), (3, 3)]
    assert periods[2]["same_as_cycles"] == [1, 1]
    assert periods[1]["code_map"]["path"] == str(edited)
    code, stdout, _ = cli("mappings", "history", "--config", str(district.config))
    assert "back to the files of cycles 1-1" in stdout


# -- finding 12: CLI hygiene ------------------------------------------------------------------


def test_json_commands_print_a_json_error_object_on_failure(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.toml")
    bad_csv = tmp_path / "a.csv"
    bad_csv.write_text("not,a,header\n", encoding="utf-8")
    for args in (
        ["sync", "--once", "--config", missing, "--json"],
        ["status", "--config", missing, "--json"],
        ["mappings", "history", "--config", missing, "--json"],
        ["mappings", "impact", "--config", missing, "--code", "A", "--as", "present", "--json"],
        ["mappings", "discover", "--config", missing, "--json"],
        ["purge", "--config", missing, "--json"],
        ["policy", "evaluate", "--policy", "CA", "--attendance", str(bad_csv), "--json"],
    ):
        code, stdout, stderr = cli(*args)
        assert code == 2, args
        error = json.loads(stdout)["error"]
        assert error["exit_code"] == 2
        assert error["message"] in stderr.replace("\n", " ") or error["message"][:40] in stderr


def test_read_only_commands_never_create_a_state_store(tmp_path: Path) -> None:
    config = tmp_path / "truancy.toml"
    write_daemon_config(config, "http://127.0.0.1:9")  # a SIS nobody asks: these commands read the store
    for args in (
        ["status"],
        ["mappings", "history"],
        ["mappings", "impact", "--code", "A", "--as", "present"],
    ):
        code, _, stderr = cli(*args, "--config", str(config))
        assert code == 2, args
        assert "no state store at" in stderr
    code, _, stderr = cli("mappings", "check", "--config", str(config), "--offline")
    assert code == 0, stderr
    sample = Path(__file__).resolve().parents[2] / "config" / "sample-attendance.csv"
    assert cli("policy", "evaluate", "--policy", "CA", "--attendance", str(sample))[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truancy.toml"]  # no truancy-state.db


def test_settings_errors_name_the_real_key_and_suggest_the_closest(
    district: District, tmp_path: Path
) -> None:
    typo = tmp_path / "typo.toml"
    _write_private(typo, district.config.read_text(encoding="utf-8").replace("timezone =", "timzone =", 1))
    code, _, stderr = cli("sync", "--once", "--config", str(typo))
    assert code == 2
    assert "did you mean district.timezone?" in stderr

    wrong = tmp_path / "wrong-secret.toml"
    text = district.config.read_text(encoding="utf-8")
    powerschool = text.index("[sis.powerschool]")
    _write_private(
        wrong,
        text[:powerschool]
        + text[powerschool:].replace('client_secret = "sandbox"', 'client_secret = "nope"'),
    )
    code, _, stderr = cli("sync", "--once", "--config", str(wrong))
    assert code == 3
    assert "check sis.powerschool.client_id / client_secret" in " ".join(stderr.split())


def test_a_plugin_key_typo_suggests_the_key(tmp_path: Path) -> None:
    config = tmp_path / "truancy.toml"
    write_daemon_config(config, "http://127.0.0.1:9")
    text = config.read_text(encoding="utf-8")
    powerschool = text.index("[sis.powerschool]")
    config.write_text(
        text[:powerschool] + text[powerschool:].replace("client_secret", "client_secert"), encoding="utf-8"
    )
    code, _, stderr = cli("sync", "--once", "--config", str(config))
    assert code == 2
    assert "sis.powerschool.client_secert" in stderr
    assert "did you mean sis.powerschool.client_secret?" in " ".join(stderr.split())


def test_mappings_check_reports_every_error_in_a_file(tmp_path: Path) -> None:
    codes = tmp_path / "codes.yaml"
    codes.write_text(
        "version: 1\ncodes:\n  A: {category: absentt}\n  B: {category: present, colour: red}\n"
        "  C: {category: excused}\n  D: {category: tardyy}\n",
        encoding="utf-8",
    )
    code, stdout, _ = cli("mappings", "check", str(codes), "--json")
    assert code == 1
    keys = sorted(f["key"] for f in json.loads(stdout)["findings"] if f["level"] == "error")
    assert keys == ["codes.A.category", "codes.B.colour", "codes.D.category"]


def test_version_and_help_without_bool_metavars() -> None:
    code, stdout, _ = cli("--version")
    assert code == 0
    assert stdout.startswith("truancy-sync ")

    def commands(group: Any, prefix: list[str]) -> Iterator[list[str]]:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):  # a group
                yield from commands(command, [*prefix, name])
            else:
                yield [*prefix, name]

    seen = []
    for path in commands(typer.main.get_group(app), []):
        code, stdout, _ = cli(*path, "--help")
        assert code == 0, path
        assert "<bool>" not in stdout, path
        seen.append(" ".join(path))
    assert {"sync", "demo", "mappings check", "policy evaluate", "db adopt"} <= set(seen)


def test_policy_evaluate_exits_1_and_lists_rejected_rows(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "config" / "sample-attendance.csv"
    lines = sample.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([*lines, "S9,2025-13-40,unexcused,,A,HS1"]) + "\n", encoding="utf-8")

    code, stdout, _ = cli("policy", "evaluate", "--policy", "CA", "--attendance", str(broken), "--json")

    assert code == 1
    report = json.loads(stdout)
    assert [r["line"] for r in report["rejected_rows"]] == [len(lines) + 1]
    assert report["students"]
    code, _, stderr = cli("policy", "evaluate", "--policy", "CA", "--attendance", str(sample))
    assert code == 0, stderr


def _busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_a_port_in_use_is_a_one_line_error(district: District) -> None:
    busy = _busy_port()
    port = str(busy.getsockname()[1])
    try:
        served = subprocess.run(
            [*TRUANCY, "sandbox", "serve", "--port", port, "--students", "20"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert served.returncode == 2
        assert f"port {port} on 127.0.0.1 is already in use" in served.stdout + served.stderr
        assert "Traceback" not in served.stdout + served.stderr

        with district.config.open("a", encoding="utf-8") as settings:
            settings.write(f"\n[health]\nport = {port}\n[schedule]\nrun_at_start = false\n")
        ran = subprocess.run(
            [*TRUANCY, "run", "--config", str(district.config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 2
        assert "Traceback" not in ran.stderr
        (line,) = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
        assert f"port {port} on 127.0.0.1 is already in use" in line
        assert "health.port" in line
    finally:
        busy.close()


def test_demo_serve_stops_its_sandbox_on_sigterm(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [*TRUANCY, "demo", "--students", "40", "--serve", "--workdir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    url = None
    assert demo.stdout is not None
    for line in demo.stdout:
        if "open cases (start page):" in line:
            url = line.split()[-1].removesuffix("/admin/home.html")
        if "Sandbox is up" in line:
            break
    assert url is not None
    assert requests.get(url + "/", timeout=10).status_code == 200
    demo.send_signal(signal.SIGTERM)
    assert demo.wait(timeout=60) == 0
    demo.stdout.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/", timeout=5)
