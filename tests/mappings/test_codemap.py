"""Attendance-code maps: what admins type is validated, and every error names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from truancy.mappings.codemap import CodeMap, MappingFileError, load_code_map
from truancy.mappings.facts import Category

GOOD = """\
version: 1
codes:
  A:   {category: unexcused, description: "Absent - Unverified"}
  T30: {category: tardy, description: "Tardy over 30 minutes", partial_day: true}
  FT:  {category: present, description: "Field Trip"}
  N:   {category: excused, description: "Note from parent"}
  "1": {category: suspension}
"""


def test_codes_translate_to_categories_and_unknown_codes_to_none() -> None:
    code_map = CodeMap.from_yaml_text(GOOD, source="codes.yaml")

    tardy = code_map.categorize("T30")
    assert tardy is not None
    assert (tardy.category, tardy.partial_day) == (Category.TARDY, True)
    absent = code_map.categorize("A")
    assert absent is not None
    assert absent.partial_day is False
    assert code_map.categorize("ZZ") is None
    assert code_map.categorize("a") is None


def test_codes_that_yaml_would_read_as_booleans_or_numbers_stay_codes() -> None:
    code_map = CodeMap.from_yaml_text(GOOD)

    assert set(code_map.entries) == {"A", "T30", "FT", "N", "1"}


def test_digest_is_the_sha256_of_the_file_content(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text(GOOD, encoding="utf-8")
    changed = GOOD.replace("Field Trip", "Field trip")

    assert load_code_map(path).digest == CodeMap.from_yaml_text(GOOD).digest
    assert CodeMap.from_yaml_text(changed).digest != CodeMap.from_yaml_text(GOOD).digest


def error_for(text: str) -> MappingFileError:
    with pytest.raises(MappingFileError) as caught:
        CodeMap.from_yaml_text(text, source="codes.yaml")
    return caught.value


def test_an_unknown_category_names_file_line_key_and_choices() -> None:
    text = GOOD.replace("category: tardy,", "category: tardie,")

    error = error_for(text)

    assert str(error) == (
        "codes.yaml:4: codes.T30.category: "
        "'tardie' is not one of present, excused, unexcused, tardy, suspension"
    )
    assert (error.file, error.line, error.key) == ("codes.yaml", 4, "codes.T30.category")


def test_a_duplicated_code_is_an_error_not_a_silent_overwrite() -> None:
    error = error_for(GOOD + "  A: {category: present}\n")

    assert str(error) == "codes.yaml:8: codes.A: duplicated key (first defined on line 3)"


def test_a_yaml_syntax_error_names_the_line() -> None:
    error = error_for("version: 1\ncodes:\n  A: {category: unexcused\n  B: {category: excused}\n")

    assert error.file == "codes.yaml"
    assert error.line is not None
    assert "YAML syntax error" in str(error)


def test_a_partial_day_flag_of_the_wrong_type_names_the_key() -> None:
    error = error_for("version: 1\ncodes:\n  T: {category: tardy, partial_day: sometimes}\n")

    assert str(error) == "codes.yaml:3: codes.T.partial_day: 'sometimes' is not true or false"


def test_a_misspelt_key_and_a_missing_category_are_named() -> None:
    assert str(error_for("version: 1\ncodes:\n  T: {categroy: tardy}\n")).startswith("codes.yaml:3: codes.T")
    misspelt = error_for("version: 1\ncodes:\n  T:\n    category: tardy\n    partialday: true\n")
    assert str(misspelt) == "codes.yaml:5: codes.T.partialday: unknown key (check the spelling)"


def test_an_unsupported_version_is_rejected() -> None:
    assert str(error_for("version: 2\ncodes:\n  A: {category: unexcused}\n")) == (
        "codes.yaml:1: version: 2 is not one of 1"
    )
