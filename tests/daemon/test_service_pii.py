"""No student name or id of the sandbox district in the daemon's log output, even at DEBUG."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import sandbox_district

pytestmark = pytest.mark.slow


def test_debug_logs_of_a_full_run_carry_no_student_name_or_id(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=120, extra_toml="\n[health]\nport = 0\n") as district:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("truancy")), "run", "--once", "--log-level", "DEBUG",
             "--config", str(district.config)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        students = district.server.district.students
    logs = result.stdout + result.stderr
    assert '"cycle_id"' in logs, logs[-2000:]
    assert '"stream": "writeback"' in logs
    leaks = set()
    for student in students:
        for value in (student.given_name, student.family_name, student.sourced_id):
            if value in logs:
                leaks.add(value)
        # Numbers are matched as whole tokens: a six-digit student number is also a timestamp's
        # microseconds ("…T11:30:01.300104Z") in one log line in a few thousand.
        for number in (student.student_number, str(student.dcid)):
            if re.search(rf"(?<![\w.:-]){re.escape(number)}(?![\w.:-])", logs):
                leaks.add(number)
        if student.birth_date.isoformat() in logs:
            leaks.add(student.birth_date.isoformat())
    assert not leaks, f"{len(leaks)} student values in the logs, e.g. {sorted(leaks)[:3]}"
