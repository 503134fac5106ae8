"""Settings pieces every SIS plugin shares: client secrets, validation errors, relative paths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from truancy.plugins.base import PluginConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


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


def validate_section(model: type[ModelT], raw: Mapping[str, Any]) -> ModelT:
    """The plugin's ``[sis]`` section as ``model``, or one error naming every bad key."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"sis.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise PluginConfigError(problems) from None


def relative_to(path: Path | None, base: Path) -> Path | None:
    """Relative paths in the settings file are relative to the file's folder."""
    if path is None or path.is_absolute():
        return path
    return base / path
