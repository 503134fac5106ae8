"""The PowerSchool plugin's settings: OneRoster (1.1, 1.2 or CSV) for rosters, its own API for the rest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from truancy.plugins.base import PluginConfigError

ROSTER_SCOPES = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
)


class SecretSource(BaseModel):
    """A client secret given inline or in a file (e.g. a systemd credential)."""

    model_config = ConfigDict(extra="forbid")

    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None

    def secret(self) -> str:
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        assert self.client_secret_file is not None
        try:
            return self.client_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PluginConfigError(
                f"client_secret_file {self.client_secret_file} cannot be read ({exc.strerror})"
            ) from None


class ClientCredentialsConfig(SecretSource):
    """OAuth 2 client credentials."""

    client_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_secret_source(self) -> ClientCredentialsConfig:
        if (self.client_secret is None) == (self.client_secret_file is None):
            raise ValueError("set exactly one of client_secret or client_secret_file")
        return self


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
        try:
            config = cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"sis.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise PluginConfigError(problems) from None
        return config.model_copy(
            update={
                "code_map": _relative_to(config.code_map, config_dir),
                "field_map": _relative_to(config.field_map, config_dir),
                "oneroster": config.oneroster.model_copy(
                    update={
                        "client_secret_file": _relative_to(config.oneroster.client_secret_file, config_dir),
                        "csv_package": _relative_to(config.oneroster.csv_package, config_dir),
                    }
                ),
                "powerschool": config.powerschool.model_copy(
                    update={
                        "client_secret_file": _relative_to(config.powerschool.client_secret_file, config_dir)
                    }
                ),
            }
        )


def _relative_to(path: Path | None, base: Path) -> Path | None:
    if path is None or path.is_absolute():
        return path
    return base / path
