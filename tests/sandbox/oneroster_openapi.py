"""The OneRoster 1.2 OpenAPI file (Ed-Fi's port of the 1EdTech OAS), loaded with its known errata fixed.

The port mistypes a few list-valued properties (``user.roles``, ``user.agents``, ``class.terms``,
``org.children`` as ``object``; ``user.userIds`` with a stray ``schema`` wrapper that is not valid
OpenAPI); the official 1EdTech 1.2 binding defines them as arrays, which is what real providers
serve. Those five are corrected here and nothing else is relaxed. The port declares no error
responses, so errors are checked against the 1.2 ``imsx_StatusInfo`` shape below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SPEC_FILE = Path("oneroster") / "oneroster-1.2-rostering-edfi-service.openapi.yaml"

_REFERENCE_LIST = {"type": "array", "items": {"type": "object", "required": ["href", "sourcedId", "type"]}}
# (schema, property) -> the official 1EdTech 1.2 definition the Ed-Fi port mistypes.
ERRATA: dict[tuple[str, str], dict[str, Any]] = {
    ("user", "roles"): {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["roleType", "role", "org"],
            "properties": {"roleType": {"enum": ["primary", "secondary"]}, "role": {"type": "string"}},
        },
    },
    ("user", "userIds"): {
        "type": "array",
        "items": {"type": "object", "required": ["type", "identifier"]},
    },
    # the guardians a student's record links to, and the student a guardian's links to (GUIDRef list)
    ("user", "agents"): _REFERENCE_LIST,
    ("class", "terms"): _REFERENCE_LIST,
    ("org", "children"): _REFERENCE_LIST,
}

IMSX_STATUS_INFO = {
    "type": "object",
    "required": ["imsx_codeMajor", "imsx_severity"],
    "properties": {
        "imsx_codeMajor": {"enum": ["success", "processing", "failure", "unsupported"]},
        "imsx_severity": {"enum": ["status", "warning", "error"]},
        "imsx_description": {"type": "string"},
        "imsx_CodeMinor": {
            "type": "object",
            "required": ["imsx_codeMinorField"],
            "properties": {
                "imsx_codeMinorField": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
                        "properties": {
                            "imsx_codeMinorFieldValue": {
                                "enum": [
                                    "fullsuccess", "invalid_filter_field", "invalid_selection_field",
                                    "invaliddata", "unauthorisedrequest", "forbidden", "server_busy",
                                    "unknownobject", "internal_server_error", "invalid_sort_field",
                                ]
                            }
                        },
                    },
                }
            },
        },
    },
}  # fmt: skip


class _TextLoader(yaml.SafeLoader):
    """Keeps unquoted timestamps (the file uses them as descriptions) as strings."""


_TextLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_corrected_spec(specs_dir: Path) -> dict[str, Any]:
    """The OpenAPI document as a dict, with ``ERRATA`` applied to its component schemas."""
    text = (specs_dir / SPEC_FILE).read_text(encoding="utf-8")
    spec: dict[str, Any] = yaml.load(text, Loader=_TextLoader)  # noqa: S506 - a SafeLoader subclass
    schemas = spec["components"]["schemas"]
    for (schema_name, property_name), official in ERRATA.items():
        schemas[schema_name]["properties"][property_name] = official
    return spec
