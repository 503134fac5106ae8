"""The Ed-Fi write-back map: how flags, notes and tasks are named in the ODS (admin-editable YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from truancy.mappings.yaml_source import MappingFileError, parse_yaml, validation_error


class IndicatorMap(BaseModel):
    """A kind written as student indicators, told apart by the start of ``indicatorName``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator_name_prefix: str = Field(min_length=1, max_length=150)


class InterventionMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    intervention_code_prefix: str = Field(min_length=1, max_length=20)
    intervention_class_descriptor: str = Field(min_length=1, max_length=306)
    delivery_method_descriptor: str = Field(min_length=1, max_length=306)


class EdFiFieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    flag: IndicatorMap
    note: IndicatorMap
    task: InterventionMap


def load_edfi_field_map(path: Path) -> EdFiFieldMap:
    """Read and validate the map; errors name the file, line and key."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingFileError(path.name, None, "", f"not UTF-8 text (byte {exc.start})") from None
    document = parse_yaml(text, path.name)
    try:
        return EdFiFieldMap.model_validate(document.data)
    except ValidationError as exc:
        raise validation_error(document, exc) from None
