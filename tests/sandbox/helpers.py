"""Small HTTP helpers shared by the sandbox tests: tokens for each protocol."""

from __future__ import annotations

from typing import Any

import requests

ROSTER = "/ims/oneroster/rostering/v1p2"
TIMEOUT = 10


def roster_headers(base_url: str, scope: str | None = None) -> dict[str, str]:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = requests.post(
        f"{base_url}/oauth/token", auth=("sandbox", "sandbox"), data=data, timeout=TIMEOUT
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def powerschool_headers(base_url: str) -> dict[str, str]:
    response = requests.post(
        f"{base_url}/oauth/access_token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def code_minor(body: Any) -> str:
    """The imsx codeMinor value of an error payload."""
    return str(body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"])
