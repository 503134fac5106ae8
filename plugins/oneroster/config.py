"""The ``[sis.oneroster]`` settings: OneRoster 1.1 or 1.2 over REST (OAuth 1.0a or 2), or a CSV package."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from truancy.plugins.config import SecretSource

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
