"""The district's directory of partners and services families are referred to, as a validated file.

An officer refers a child to a partner listed here, so the packet and the SIS page name a real
service, in the family's language, for the child's age, and show whether consent was needed.
Example::

    partners:
      - id: family_resource_center
        name: Family Resource Center
        services: [counselling, housing, food]
        languages: [en, es]
        ages: {min: 5, max: 18}
        contact: {phone: "555-0100", email: frc@example.org}
        consent_required: true
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.mappings.yaml_source import load_model

Service = Literal[
    "counselling", "tutoring", "mentoring", "health", "mental_health", "housing", "transportation",
    "food", "mediation", "teen_court", "attendance_program", "family_support",
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ages(_Strict):
    min: int = Field(ge=0, le=25)
    max: int = Field(ge=0, le=25)

    @model_validator(mode="after")
    def _ordered(self) -> Ages:
        if self.min > self.max:
            raise ValueError(f"min age {self.min} is above max age {self.max}")
        return self


class Contact(_Strict):
    phone: str = ""
    email: str = ""
    address: str = ""

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not (self.phone or self.email or self.address):
            raise ValueError("give a phone, email or address")
        return self


class Partner(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    services: tuple[Service, ...] = Field(min_length=1)
    languages: tuple[str, ...] = Field(min_length=1)
    ages: Ages
    contact: Contact
    consent_required: bool

    def serves(self, service: str, *, age: int | None = None, language: str | None = None) -> bool:
        fits_age = age is None or self.ages.min <= age <= self.ages.max
        return service in self.services and fits_age and (language is None or language in self.languages)


class Directory(_Strict):
    partners: tuple[Partner, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Directory:
        ids = [p.id for p in self.partners]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"partner id(s) listed twice: {', '.join(repeated)}")
        return self

    def partner(self, partner_id: str) -> Partner | None:
        return next((p for p in self.partners if p.id == partner_id), None)


def load_directory(path: Path) -> Directory:
    """The district's partner directory; a bad file is refused with the key at fault."""
    return load_model(path, Directory, "the partner directory")
