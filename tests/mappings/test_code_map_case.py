"""Case folding is an option of the code map, so the sync, ``mappings check`` and ``mappings impact``
compare codes alike: an Ed-Fi descriptor in another case is the same code, a PowerSchool code is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from truancy.daemon.mapping_check import CheckReport, check_code_usage
from truancy.mappings.codemap import CodeMap, load_code_map
from truancy.mappings.discover import ObservedCode, render_code_map, suggest_all
from truancy.mappings.facts import Category

REPO = Path(__file__).resolve().parents[2]
TARDY = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy"
MAP = """version: 1
{option}codes:
  "{code}": {{category: tardy, partial_day: true}}
"""


def code_map(fold_case: bool) -> CodeMap:
    option = "fold_case: true\n" if fold_case else ""
    return CodeMap.from_yaml_text(MAP.format(option=option, code=TARDY))


def test_a_folding_map_matches_a_descriptor_in_any_case() -> None:
    entry = code_map(fold_case=True).categorize(TARDY.upper())
    assert entry is not None
    assert entry.category is Category.TARDY
    assert code_map(fold_case=False).categorize(TARDY.upper()) is None
    assert code_map(fold_case=False).categorize(f" {TARDY} ") is not None


def test_the_shipped_maps_fold_case_for_ed_fi_only() -> None:
    assert load_code_map(REPO / "plugins/edfi/codes.yaml").fold_case
    assert load_code_map(REPO / "plugins/edfi/sandbox-codes.yaml").fold_case
    assert not load_code_map(REPO / "plugins/powerschool/codes.yaml").fold_case


@pytest.mark.parametrize(("fold_case", "errors"), [(True, 0), (False, 1)])
def test_mappings_check_counts_codes_as_the_sync_does(tmp_path: Path, fold_case: bool, errors: int) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text(MAP.format(option="fold_case: true\n" if fold_case else "", code=TARDY), encoding="utf-8")
    report = CheckReport()
    check_code_usage(path, report, [ObservedCode(code=TARDY.lower(), description="Tardy", occurrences=7)])
    assert len(report.errors) == errors
    assert len(report.warnings) == (0 if fold_case else 1)


@pytest.mark.parametrize("fold_case", [True, False])
def test_a_proposed_map_keeps_the_current_maps_case_rule(fold_case: bool) -> None:
    suggestions = suggest_all([ObservedCode(code=TARDY, description="Tardy", occurrences=3, with_minutes=3)])
    proposed = CodeMap.from_yaml_text(render_code_map(suggestions, source="a test", fold_case=fold_case))
    assert proposed.fold_case is fold_case
