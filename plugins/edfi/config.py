"""The Ed-Fi plugin's settings: ``[sis] plugin = "edfi"`` and a ``[sis.edfi]`` table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from truancy.plugins.config import ClientCredentialsConfig, relative_to, validate_section


class EdFiApiConfig(ClientCredentialsConfig):
    """Where the ODS/API is and how to read it."""

    base_url: str = Field(min_length=1, description="the ODS/API root that serves the discovery document")
    school_year: int = Field(ge=1990, le=2100, description="the school year's end, e.g. 2026 for 2025-26")
    instance: str | None = Field(default=None, min_length=1, description="instance or tenant route segment")
    education_organization_id: int = Field(
        description="the LEA (or school) that owns truancy interventions and student indicators"
    )
    page_size: int = Field(default=500, ge=1, le=500)
    paging: Literal["auto", "offset", "cursor"] = "auto"
    change_window: int = Field(default=1_000_000, ge=1, description="change versions read per step")
    use_snapshot: bool = True
    school_day_minutes: int = Field(
        default=360, ge=1, le=1440, description="a full day, to turn eventDuration into minutes"
    )


class EdFiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin: str = "edfi"
    edfi: EdFiApiConfig
    code_map: Path | None = None
    field_map: Path | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], config_dir: Path) -> EdFiConfig:
        config = validate_section(cls, raw)
        secret_file = config.edfi.client_secret_file
        return config.model_copy(
            update={
                "code_map": relative_to(config.code_map, config_dir),
                "field_map": relative_to(config.field_map, config_dir),
                "edfi": config.edfi.model_copy(
                    update={"client_secret_file": relative_to(secret_file, config_dir)}
                ),
            }
        )
