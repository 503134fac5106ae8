"""The Ed-Fi plugin pointed at a sandbox, and the check that what the sandbox serves is DS 5.0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import requests
import yaml

from truancy.plugins.base import ConnectionOptions
from truancy.plugins.edfi import EdFiPlugin

REPO = Path(__file__).resolve().parents[2]
LEA = 255901


def edfi_plugin(url: str, config_dir: Path, *, code_map: Path | None = None, **edfi: Any) -> EdFiPlugin:
    """The plugin against the sandbox at ``url`` (the shipped code map unless one is given; ``edfi``:
    more ``[sis.edfi]`` settings)."""
    settings: dict[str, Any] = {
        "plugin": "edfi",
        "code_map": str(code_map or REPO / "plugins" / "edfi" / "codes.yaml"),
        "edfi": {
            "base_url": f"{url}/edfi/",
            "client_id": "sandbox",
            "client_secret": "sandbox",
            "school_year": 2026,
            "education_organization_id": LEA,
            **edfi,
        },
    }
    return EdFiPlugin(settings, options=ConnectionOptions(max_attempts=2), config_dir=config_dir)


def served_records_validate(url: str, specs_dir: Path, resources: dict[str, str], at_least: int) -> None:
    """Each resource's first page (at least ``at_least`` records) validates against its DS 5.0 schema."""
    token = requests.post(
        f"{url}/edfi/oauth/token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    document = yaml.safe_load(
        (specs_dir / "edfi" / "openapi" / "resources-ds-5.0.yaml").read_text(encoding="utf-8")
    )
    for resource, schema_name in resources.items():
        assert f"/ed-fi/{resource}" in document["paths"]
        response = requests.get(
            f"{url}/edfi/data/v3/ed-fi/{resource}",
            params={"limit": "100"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200
        records = response.json()
        assert len(records) >= at_least
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
        validator = jsonschema.Draft4Validator(schema)
        for record in records:
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
            assert errors == [], resource
