"""OneRoster's imsx_StatusInfo error payload, read the way real providers actually send it.

The spec spells the minor-code key ``imsx_CodeMinor``; several providers write ``imsx_codeMinor``, and
some wrap the object in a ``statusInfoSet`` array. Keys are therefore matched case-insensitively and
both shapes are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ImsxStatus:
    """The parts of an imsx_StatusInfo that explain a failure."""

    code_major: str
    severity: str | None = None
    code_minor: str | None = None
    description: str | None = None


def _lower_keys(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in obj.items()}


def _first_status_object(payload: Any) -> dict[str, Any] | None:
    if not isinstance(payload, Mapping):
        return None
    lowered = _lower_keys(payload)
    if "imsx_codemajor" in lowered:
        return lowered
    for wrapper in ("statusinfoset", "imsx_statusinfo"):
        inner = lowered.get(wrapper)
        if isinstance(inner, list) and inner:
            inner = inner[0]
        if isinstance(inner, Mapping) and "imsx_codemajor" in _lower_keys(inner):
            return _lower_keys(inner)
    return None


def _code_minor(status: Mapping[str, Any]) -> str | None:
    minor = status.get("imsx_codeminor")
    if isinstance(minor, str):
        return minor
    if not isinstance(minor, Mapping):
        return None
    fields = _lower_keys(minor).get("imsx_codeminorfield")
    if isinstance(fields, Mapping):
        fields = [fields]
    if not isinstance(fields, list):
        return None
    values = [
        str(value)
        for field in fields
        if isinstance(field, Mapping)
        and (value := _lower_keys(field).get("imsx_codeminorfieldvalue")) is not None
    ]
    return ",".join(values) or None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_imsx(payload: Any) -> ImsxStatus | None:
    """The status in ``payload``, or None when it is not an imsx_StatusInfo in any known shape."""
    status = _first_status_object(payload)
    if status is None:
        return None
    return ImsxStatus(
        code_major=str(status["imsx_codemajor"]),
        severity=_optional_str(status.get("imsx_severity")),
        code_minor=_code_minor(status),
        description=_optional_str(status.get("imsx_description")),
    )
