"""Caseload rules: the first matching rule names a student's officer; bad rules are named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from truancy.daemon.caseload import CaseloadSettings, expand_grades
from truancy.daemon.caseload_writes import assign
from truancy.daemon.settings import SettingsError, load_settings
from truancy.mappings.writes import DesiredWrite, WriteKind

RULES = """
[caseloads]
default_officer = "mortega"
rules = [
  { officer = "dkim", schools = ["300"] },
  { officer = "aokafor", grades = ["K-2", "8"] },
  { officer = "jlee", schools = ["200"], grades = ["6-7"] },
]
"""


def settings(tmp_path: Path, text: str) -> CaseloadSettings:
    path = tmp_path / "truancy.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path).caseloads


def test_the_first_matching_rule_names_the_officer(tmp_path: Path) -> None:
    caseloads = settings(tmp_path, RULES)
    assert caseloads.officer_for("300", "8") == "dkim"  # school rule comes first
    assert caseloads.officer_for("100", "K") == "aokafor"
    assert caseloads.officer_for("100", "8") == "aokafor"
    assert caseloads.officer_for("200", "6") == "jlee"  # both school and grade must match
    assert caseloads.officer_for("200", "9") == "mortega"
    assert caseloads.officer_for("100", None) == "mortega"  # an unknown grade meets no grade rule
    assert CaseloadSettings().officer_for("300", "8") == ""


def test_grade_ranges_read_as_districts_write_them() -> None:
    assert expand_grades(["K-2"]) == {"K", "1", "2"}
    assert expand_grades(["09-12", "KG"]) == {"K", "9", "10", "11", "12"}
    with pytest.raises(ValueError, match="runs backwards"):
        expand_grades(["12-9"])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('{ officer = "dkim" }', "names no schools and no grades"),
        ('{ officer = "dkim", grades = ["13"] }', "not a grade"),
        ('{ officer = "dkim", grades = ["A-Z"] }', "not a grade or a range"),
        ('{ officer = "d kim", schools = ["1"] }', "caseloads.rules.0.officer"),
        ('{ officer = "dkim", school = ["1"] }', "caseloads.rules.0.school: Extra inputs"),
    ],
)
def test_a_bad_rule_is_a_named_settings_error(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(tmp_path, f"[caseloads]\nrules = [{rule}]\n")


def test_flags_and_tasks_carry_the_officer_and_tasks_their_kind_notes_nothing() -> None:
    flag = DesiredWrite(WriteKind.FLAG, "f" * 40, "s1", {"flag_type": "truant"})
    task = DesiredWrite(WriteKind.TASK, "t" * 40, "s1", {"task_type": "parent_conference"})
    note = DesiredWrite(WriteKind.NOTE, "n" * 40, "s1", {"note_text": "x"})
    kinds = {"parent_conference": "conference"}
    assert assign(flag, "dkim", kinds).fields == {"flag_type": "truant", "officer": "dkim"}
    assert assign(task, "dkim", kinds).fields["task_kind"] == "conference"
    assert assign(note, "dkim", kinds) == note
