"""``[casework]``: where packets are written and the district's own casework files."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class CaseworkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    packets_dir: Path = Field(
        default=Path("packets"), description="SARB/court/SAIC packets (relative to the settings file)"
    )
    pack: Path | None = Field(default=None, description="the district's own casework pack (else the state's)")
    directory: Path | None = Field(default=None, description="the district's partner and service directory")
