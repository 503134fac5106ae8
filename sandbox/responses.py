"""Error payloads in each protocol's own format."""

from __future__ import annotations

from fastapi.responses import JSONResponse


def imsx_error(
    status: int, code_minor: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A OneRoster ``imsx_StatusInfo`` failure, as the 1.2 binding specifies."""
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code_minor}
            ]
        },
    }
    return JSONResponse(body, status_code=status, headers=headers)


def powerschool_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)
