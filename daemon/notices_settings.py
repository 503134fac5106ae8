"""``[notices]`` and ``[notices.email]``: how letters are approved, where their PDFs go, how mail
is sent, and what the letterhead and contact lines say."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NoticeEmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    username: str | None = None
    password_file: Path | None = Field(default=None, description="a file in the secrets directory")
    verify_tls: bool | str = Field(default=True, description="true, false, or a CA bundle path")


class NoticeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    approval: Literal["officer", "auto"] = "officer"
    output_dir: Path = Field(default=Path("notices"), description="letters and print batches")
    catalogs_dir: Path | None = Field(default=None, description="the district's own reviewed catalogs")
    templates_dir: Path | None = Field(default=None, description="the district's own letter templates")
    district_address: list[str] = Field(default_factory=list)
    district_phone: str = ""
    signature_name: str = ""
    signature_title: str = "Supervisor of Attendance"
    contact_name: str = "the attendance office"
    contact_phone: str = ""
    contact_email: str = ""
    supports: list[str] = Field(
        default_factory=lambda: [
            "A meeting with a counselor or attendance staff member",
            "Help with transportation, health or other barriers to getting to school",
            "Referrals to mental health and family support services",
        ]
    )
    values: dict[str, str] = Field(
        default_factory=dict, description="values letters name, e.g. board_name and board_address for SARB"
    )
    email: NoticeEmailSettings | None = None
