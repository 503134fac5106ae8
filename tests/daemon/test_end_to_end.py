"""The whole loop against the sandbox over real HTTP: pull, evaluate, write back, and again."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import District, sandbox_district
from truancy.daemon.cli import app

pytestmark = pytest.mark.slow


def test_first_sync_writes_and_second_sync_changes_nothing(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        first = district.sync()
        assert first.ok, first.errors
        assert first.students == 300
        assert first.cases.get("truant", 0) > 0
        planned = first.planned["created"]
        assert planned["flag"] > 0
        assert planned["note"] > 0
        assert planned["task"] > 0
        assert first.writes.created == sum(planned.values())

        second = district.sync()
        assert second.ok, second.errors
        assert (second.writes.created, second.writes.updated, second.writes.deleted) == (0, 0, 0)
        assert second.evaluated == 0, "nothing happened to any student, so no one is evaluated again"

        rows = district.sis_rows()
        for table, table_rows in rows.items():
            keys = Counter(row["sync_key"] for row in table_rows)
            assert keys, f"{table} is empty"
            assert max(keys.values()) == 1, f"duplicate sync_key in {table}"


def test_late_correction_retracts_the_flag_and_logs_why(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        flags = district.sis_rows()["U_TRUANCY_FLAGS"]
        truant = next(row for row in flags if row["flag_type"] == "truant")
        dcid = int(truant["studentsdcid"])
        truth = district.server.district
        assert truth is not None
        unexcused = [
            row for row in truth.attendance_of(dcid) if row.att_code in {"A", "UNX", "T", "T30", "UT", "ED"}
        ]
        for row in unexcused:  # the parent's notes arrive: every unexcused day becomes excused
            district.control("POST", "/attendance/correct", json={"dcid": row.dcid, "att_code": "EX"})

        after = district.sync()
        assert after.ok, after.errors
        assert after.writes.deleted >= 1
        rows = district.sis_rows()
        assert not [
            r
            for r in rows["U_TRUANCY_FLAGS"]
            if r["studentsdcid"] == str(dcid) and r["flag_type"] == "truant"
        ]
        notes = [r for r in rows["U_TRUANCY_NOTES"] if r["studentsdcid"] == str(dcid)]
        assert any(r["category"] == "retraction" for r in notes)
        assert district.sync().writes.created == 0


def test_unknown_code_is_quarantined_and_reported(tmp_path: Path) -> None:
    code_map = tmp_path / "codes.yaml"
    code_map.write_text(
        "version: 1\ncodes:\n"
        + "".join(
            f"  {code}: {{category: {category}{', partial_day: true' if partial else ''}}}\n"
            for code, category, partial in [
                ("PRE", "present", False),
                ("FT", "present", False),
                ("A", "unexcused", False),
                ("UNX", "unexcused", False),
                ("EX", "excused", False),
                ("ILL", "excused", False),
                ("T", "tardy", True),
                ("T30", "tardy", True),
                ("UT", "tardy", True),
                ("ED", "unexcused", True),
                ("SUS", "suspension", False),
                ("ISS", "present", False),
            ]  # MED deliberately missing
        ),
        encoding="utf-8",
    )
    with sandbox_district(tmp_path, extra_toml='\n[mappings]\ncode_map = "codes.yaml"\n') as district:
        summary = district.sync()
        truth = district.server.district
        assert truth is not None
        med_rows = sum(1 for row in truth.attendance() if row.att_code == "MED")
        assert med_rows > 0
        assert summary.unknown_codes == {"MED": med_rows}
        assert summary.quarantined >= med_rows


@pytest.mark.parametrize(
    ("fault", "expected_status"),
    [
        ({"path_prefix": "/ws/schema/query", "status": 500, "count": 2}, 500),
        ({"path_prefix": "/ws/schema/query", "status": 429, "count": 1, "retry_after": 1}, 429),
        ({"path_prefix": "/ims/oneroster", "status": 503, "count": 2}, 503),
    ],
)
def test_sync_survives_server_errors_and_throttling(
    tmp_path: Path, fault: dict[str, object], expected_status: int
) -> None:
    with sandbox_district(tmp_path) as district:
        district.control("POST", "/faults", json=fault)
        summary = district.sync()
        assert summary.ok, summary.errors
        assert summary.writes.created > 0


def test_expired_token_is_refreshed(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        district.control("POST", "/tokens/expire")
        district.control(
            "POST", "/attendance/correct", json={"dcid": _any_unexcused(district), "att_code": "EX"}
        )
        summary = district.sync()
        assert summary.ok, summary.errors


def _any_unexcused(district: District) -> int:
    assert district.server.district is not None
    return next(row.dcid for row in district.server.district.attendance() if row.att_code == "A")


def test_cli_sync_once_json(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        runner = CliRunner()
        result = runner.invoke(app, ["sync", "--once", "--config", str(district.config), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert set(report) >= {"students", "attendance_records", "cases", "writes", "quarantined", "errors"}
        assert set(report["writes"]) >= {"created", "updated", "deleted", "unchanged"}
        again = json.loads(
            runner.invoke(app, ["sync", "--once", "--config", str(district.config), "--json"]).stdout
        )
        assert again["writes"]["created"] == again["writes"]["updated"] == again["writes"]["deleted"] == 0
