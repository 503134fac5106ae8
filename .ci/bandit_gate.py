"""Bandit over the shipped code, failing on any finding that is not justified where it occurs.

A finding is justified inline either the Bandit way (``# nosec B404 - reason``, which Bandit honours
itself) or the way the project already justifies ruff's flake8-bandit rules, which share Bandit's
numbers: ``# noqa: S506 - a safe loader`` answers B506. A bare ``noqa``/``nosec`` with no reason does
not count. Usage: ``python .ci/bandit_gate.py DIR...`` (settings from ``[tool.bandit]``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path


def justified(test_id: str, lines: list[str]) -> bool:
    number = test_id.removeprefix("B")
    # the rule's number, then a reason: "- why", ": why" or "(why)"
    reason = rf"(?:noqa:[^#]*\bS{number}\b|nosec[^#]*\bB{number}\b)[^#]*?[-:(]\s*\w"
    return any(re.search(reason, line) for line in lines)


def main(targets: list[str]) -> int:
    command = [sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-q", "-f", "json", "-r", *targets]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own argv
    if done.returncode not in (0, 1):
        print(done.stderr.strip() or "bandit failed", file=sys.stderr)
        return 2
    report = json.loads(done.stdout)
    unjustified = []
    for result in report["results"]:
        source = Path(result["filename"]).read_text(encoding="utf-8").splitlines()
        span = result.get("line_range") or [result["line_number"]]
        lines = [source[n - 1] for n in range(min(span), max(span) + 1) if 0 < n <= len(source)]
        if not justified(result["test_id"], lines):
            unjustified.append(result)
    for result in unjustified:
        where = f"{result['filename']}:{result['line_number']}"
        print(f"{where}: {result['test_id']} {result['issue_text']}")
    scanned = report["metrics"]["_totals"]["loc"]
    print(f"bandit: {len(report['results'])} finding(s) in {scanned:,} lines, {len(unjustified)} unjustified")
    return 1 if unjustified else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["connector", "mappings", "plugins", "daemon", "sandbox"]))
