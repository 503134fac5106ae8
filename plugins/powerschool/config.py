"""The PowerSchool plugin's settings: OneRoster (1.1, 1.2 or CSV) for rosters, its own API for the rest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from truancy.plugins.config import ClientCredentialsConfig, relative_to, validate_section
from truancy.plugins.oneroster import OneRosterConfig


class PowerSchoolApiConfig(ClientCredentialsConfig):
    base_url: str = Field(min_length=1)
    page_size: int = Field(default=500, ge=1, le=10_000)


class PowerSchoolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin: str = "powerschool"
    oneroster: OneRosterConfig
    powerschool: PowerSchoolApiConfig
    code_map: Path | None = None
    field_map: Path | None = None
    attendance_overlap_minutes: int = Field(default=10, ge=0)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], config_dir: Path) -> PowerSchoolConfig:
        config = validate_section(cls, raw)
        return config.model_copy(
            update={
                "code_map": relative_to(config.code_map, config_dir),
                "field_map": relative_to(config.field_map, config_dir),
                "oneroster": config.oneroster.model_copy(
                    update={
                        "client_secret_file": relative_to(config.oneroster.client_secret_file, config_dir),
                        "csv_package": relative_to(config.oneroster.csv_package, config_dir),
                    }
                ),
                "powerschool": config.powerschool.model_copy(
                    update={
                        "client_secret_file": relative_to(config.powerschool.client_secret_file, config_dir)
                    }
                ),
            }
        )
