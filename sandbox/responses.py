"""Error payloads in each protocol's own format."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def imsx_error(
    status: int, code_minor: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A OneRoster ``imsx_StatusInfo`` failure, as the 1.2 binding specifies."""
    return JSONResponse(imsx_status(code_minor, description), status_code=status, headers=headers)


def imsx_status(code_minor: str, description: str) -> dict[str, Any]:
    """The body of an ``imsx_StatusInfo`` failure."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code_minor}
            ]
        },
    }


def powerschool_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)
