"""The PowerSchool plugin's settings: OneRoster (1.1, 1.2 or CSV) for rosters, its own API for the rest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.plugins.config import ClientCredentialsConfig, SecretSource, relative_to, validate_section

ROSTER_SCOPES = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
)


class OneRosterConfig(SecretSource):
    """Where rosters come from: OneRoster 1.1 or 1.2 over REST (OAuth 1.0a or 2), or a CSV package."""

    client_id: str | None = Field(default=None, min_length=1)
    version: Literal["1.1", "1.2"] = "1.2"
    auth: Literal["oauth1", "oauth2"] = "oauth2"
    signature_method: Literal["HMAC-SHA256", "HMAC-SHA1"] = Field(
        default="HMAC-SHA256", description="OAuth 1.0a only; HMAC-SHA1 for providers that lack SHA-256"
    )
    csv_package: Path | None = Field(
        default=None, description="a OneRoster CSV zip, package folder, or drop folder (newest package)"
    )
    base_url: str | None = Field(
        default=None, min_length=1, description="service root, e.g. https://host/ims/oneroster/rostering/v1p2"
    )
    token_url: str | None = Field(default=None, min_length=1)
    scopes: list[str] | None = Field(
        default=list(ROSTER_SCOPES), description="token scopes; an empty list sends none"
    )
    page_size: int = Field(default=500, ge=1, le=10_000)
    student_ref_type: str = Field(
        default="PowerSchool DCID", description="the userIds[].type that carries the student's DCID"
    )

    @model_validator(mode="after")
    def _complete_for_its_source(self) -> OneRosterConfig:
        if self.csv_package is not None:
            return self
        missing = [name for name in ("base_url", "client_id") if getattr(self, name) is None]
        if self.auth == "oauth2" and self.token_url is None:
            missing.append('token_url (needed for auth = "oauth2")')
        if missing:
            raise ValueError(f"set {', '.join(missing)}, or csv_package to read a CSV package instead")
        if (self.client_secret is None) == (self.client_secret_file is None):
            raise ValueError("set exactly one of client_secret or client_secret_file")
        return self


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
