"""Settings pieces every SIS plugin shares: client secrets, validation errors, relative paths."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
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


def closest_key(model: type[BaseModel], loc: Sequence[int | str]) -> str | None:
    """The valid key nearest to the unknown one at ``loc`` (a typo's likely intent), or None."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        nested = getattr(field, "annotation", None) if field is not None else None
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            return None
        model = nested
    found = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return found[0] if found else None


def problem_text(model: type[BaseModel], prefix: str, error: Mapping[str, Any]) -> str:
    """``prefix.key.path: message``, and for an unknown key the valid key it was probably meant as."""
    loc = tuple(error["loc"])
    text = f"{'.'.join(str(p) for p in (prefix, *loc) if p != '')}: {error['msg']}"
    if error["type"] == "extra_forbidden" and loc:
        near = closest_key(model, loc)
        if near is not None:
            text += f" (did you mean {'.'.join(str(p) for p in (prefix, *loc[:-1], near) if p != '')}?)"
    return text


def validate_section(model: type[ModelT], raw: Mapping[str, Any]) -> ModelT:
    """The plugin's ``[sis]`` section as ``model``, or one error naming every bad key."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(problem_text(model, "sis", err) for err in exc.errors())
        raise PluginConfigError(problems) from None


def relative_to(path: Path | None, base: Path) -> Path | None:
    """Relative paths in the settings file are relative to the file's folder."""
    if path is None or path.is_absolute():
        return path
    return base / path
