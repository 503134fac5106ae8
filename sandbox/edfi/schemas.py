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

    def problems(self, resource: str, body: dict[str, Any]) -> dict[str, list[str]]:
        """What is wrong with ``body`` as a ``resource`` write, by JSON path, as the ODS/API reports
        ``validationErrors`` (``EdFi.Ods.Api/ExceptionHandling/ErrorTranslator.cs:49-70``)."""
        found: dict[str, list[str]] = {}
        if self._components is None:
            for name in _REQUIRED.get(resource, ()):
                if name not in body:
                    found[f"$.{name}"] = [f"{name[0].upper()}{name[1:]} is required."]
            return found
        validator = self._validator(resource)
        for error in sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path)):
            path = "$" + "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
            )
            if error.validator == "required":
                # A missing member is reported at its own path, "<Name> is required." (the Postman
                # integration suite's "(Value|FiscalYear) is required." checks).
                for name in error.validator_value:
                    if isinstance(error.instance, dict) and name not in error.instance:
                        found.setdefault(f"{path}.{name}", []).append(
                            f"{name[0].upper()}{name[1:]} is required."
                        )
                continue
            found.setdefault(path, []).append(error.message)
        return found

    def _validator(self, resource: str) -> jsonschema.Draft4Validator:
        if resource not in self._validators:
            assert self._components is not None
            name = "edFi_" + resource[0].lower() + resource[1:].removesuffix("s")
            schema = {"$ref": f"#/components/schemas/{name}", "components": self._components}
            self._validators[resource] = jsonschema.Draft4Validator(schema)
        return self._validators[resource]
