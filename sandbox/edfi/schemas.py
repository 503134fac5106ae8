"""Every write is validated against the Data Standard's resource schema before it is stored.

The official OpenAPI file is not shipped with the sandbox; point ``TRUANCY_SANDBOX_EDFI_OPENAPI`` (or
the ``openapi`` argument) at ``resources-ds-5.0.yaml`` and each body is checked against its
component schema. Without it, the sandbox still refuses bodies missing a field the standard requires.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OPENAPI_ENV = "TRUANCY_SANDBOX_EDFI_OPENAPI"
# The required fields of the writable DS 5.0 resources, for when the OpenAPI file is absent.
_REQUIRED = {
    "interventions": (
        "interventionIdentificationCode", "deliveryMethodDescriptor", "interventionClassDescriptor",
        "beginDate", "educationOrganizationReference",
    ),
    "studentInterventionAssociations": ("interventionReference", "studentReference"),
    "studentInterventionAttendanceEvents": (
        "attendanceEventCategoryDescriptor", "eventDate", "interventionReference", "studentReference",
    ),
    "studentEducationOrganizationAssociations": ("educationOrganizationReference", "studentReference"),
}  # fmt: skip


class ResourceSchemas:
    def __init__(self, openapi: Path | None = None) -> None:
        path = openapi or (Path(os.environ[OPENAPI_ENV]) if os.environ.get(OPENAPI_ENV) else None)
        self._components: dict[str, Any] | None = None
        self._validators: dict[str, jsonschema.Draft4Validator] = {}
        if path is not None:
            # libyaml's loader reads the 4 MB file several times faster than the pure-Python one.
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
            self._components = document["components"]

    @property
    def official(self) -> bool:
        return self._components is not None

    def problems(self, resource: str, body: dict[str, Any]) -> list[str]:
        """What is wrong with ``body`` as a ``resource`` write, as ``path: message`` lines."""
        if "id" in body:
            return ["id: the resource identifier is assigned by the server and must not be posted"]
        if self._components is None:
            return [f"{name}: is required" for name in _REQUIRED.get(resource, ()) if name not in body]
        validator = self._validator(resource)
        return [
            f"{'.'.join(str(part) for part in error.absolute_path) or '$'}: {error.message}"
            for error in sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
        ]

    def _validator(self, resource: str) -> jsonschema.Draft4Validator:
        if resource not in self._validators:
            assert self._components is not None
            name = "edFi_" + resource[0].lower() + resource[1:].removesuffix("s")
            schema = {"$ref": f"#/components/schemas/{name}", "components": self._components}
            self._validators[resource] = jsonschema.Draft4Validator(schema)
        return self._validators[resource]
