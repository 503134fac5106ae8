"""The README a district reads documents every settings key, the CSV format and where the design is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from truancy.daemon.settings import Settings
from truancy.mappings.canonical_csv import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_attendance_csv
from truancy.plugins.edfi.config import EdFiConfig
from truancy.plugins.powerschool.config import PowerSchoolConfig

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "config" / "truancy.example.toml").read_text(encoding="utf-8")


def keys(model: type[BaseModel], prefix: tuple[str, ...]) -> Iterator[str]:
    """Every leaf key of a settings model, dotted as the TOML file nests it."""
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            yield from keys(nested, (*prefix, name))
        else:
            yield ".".join((*prefix, name))


ALL_KEYS = sorted(
    {
        *keys(Settings, ()),
        *keys(PowerSchoolConfig, ("sis",)),
        *keys(EdFiConfig, ("sis",)),
    }
)


def test_the_readme_documents_every_settings_key_of_the_daemon_and_both_plugins() -> None:
    assert "sis.edfi.education_organization_id" in ALL_KEYS
    assert "sis.oneroster.csv_package" in ALL_KEYS
    missing = [key for key in ALL_KEYS if f"`{key}`" not in README]
    assert missing == []


def test_the_example_settings_file_shows_every_key() -> None:
    missing = [key for key in ALL_KEYS if not re.search(rf"\b{re.escape(key.split('.')[-1])} =", EXAMPLE)]
    assert missing == []


def test_the_readme_documents_the_canonical_csv_with_the_sample_it_ships() -> None:
    sample = ROOT / "config" / "sample-attendance.csv"
    assert "config/sample-attendance.csv" in README
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        assert f"`{column}`" in README, column
    students, rejected = read_attendance_csv(sample)
    assert rejected == []
    assert len(students) == 3


def test_the_readme_links_the_architecture_page_the_repo_has() -> None:
    assert "DESIGN.md" not in README
    for link in re.findall(r"\]\(((?!https?:|#)[^)]+)\)", README):
        assert (ROOT / link).exists(), link
    assert "(docs/architecture.md)" in README
