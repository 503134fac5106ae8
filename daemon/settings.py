"""Daemon settings: one TOML file, ``TRUANCY_*`` environment variables, and a secrets directory.

Precedence (highest first): environment, secrets directory, TOML file, defaults. Nested keys use a
double underscore in the environment: ``TRUANCY_SIS__POWERSCHOOL__CLIENT_SECRET``.
"""

from __future__ import annotations

import grp
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from truancy.daemon.caseload import CaseloadSettings
from truancy.daemon.casework_settings import CaseworkSettings
from truancy.daemon.holdout import OutcomesSettings
from truancy.daemon.notices_settings import NoticeSettings
from truancy.plugins.base import ConnectionOptions
from truancy.plugins.config import problem_text


class SettingsError(ValueError):
    """A settings file or variable that cannot be used; the message names the key and the fix."""


class DistrictSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default="district", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = "School district"
    state: str = Field(
        default="CA", description="policy pack: CA, TX, PA, IL, FL, NY, OH, WA, GA, NC, MI, NJ or federal"
    )
    timezone: str = "America/Los_Angeles"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Chicago)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone: "today" for the law is the district's today."""
        return ZoneInfo(self.timezone)


SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="sqlite:///truancy-state.db", description="SQLAlchemy URL of the state store")
    sslmode: SslMode | None = Field(
        default=None,
        description="PostgreSQL TLS (libpq sslmode); unset: verify-full for a remote host, libpq's "
        "default on loopback or a Unix socket",
    )
    sslrootcert: str | None = Field(
        default=None,
        description='PostgreSQL: the CA file that signed the server\'s certificate, or "system"',
    )


class FilesSettings(BaseModel):
    """Who may read what the daemon writes (store, letters, packets, reports): its user, or one group."""

    model_config = ConfigDict(extra="forbid")

    group: str | None = Field(
        default=None, description="files 0640 and folders 0750 for this group; unset: 0600 and 0700"
    )

    @field_validator("group")
    @classmethod
    def _known_group(cls, group: str | None) -> str | None:
        if group is not None:
            try:
                grp.getgrnam(group)
            except KeyError:
                raise ValueError(f"group {group!r} does not exist on this machine (groupadd it)") from None
        return group


class RetentionSettings(BaseModel):
    """How long each kind of record is kept once nothing needs it (days); unset: kept until purged by hand.

    ``truancy purge`` destroys what is older; ``nightly = true`` has ``truancy run`` do it after the
    nightly reconcile. Records an open case or a pending referral needs are never purged.
    """

    model_config = ConfigDict(extra="forbid")

    nightly: bool = False
    closed_cases_days: int | None = Field(default=None, ge=0, description="after the case closed")
    notices_days: int | None = Field(default=None, ge=0, description="notices and delivery evidence")
    packets_days: int | None = Field(default=None, ge=0, description="SARB/court/SAIC packets")
    contacts_days: int | None = Field(default=None, ge=0, description="guardian contacts")
    write_journal_days: int | None = Field(default=None, ge=0, description="the outbox journal")
    family_notices_days: int | None = Field(
        default=None, ge=0, description="family letters (TX start-of-year) and the students each covers"
    )

    def days(self, kind: str) -> int | None:
        value: int | None = getattr(self, f"{kind}_days", None)
        return value


class HttpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    read_timeout_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=20)
    verify_tls: bool | str = Field(default=True, description="true, false, or a CA bundle path")

    def connection_options(self) -> ConnectionOptions:
        return ConnectionOptions(
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            max_attempts=self.max_attempts,
            verify_tls=self.verify_tls,
        )


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_reconcile_hours: float = Field(
        default=24.0,
        gt=0,
        description="re-read every stream in full this often, to catch records the SIS deleted outright",
    )
    retraction_guard_share: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="a cycle withdrawing more than this share of open flags and tasks (and more than "
        "retraction_guard_rows) writes nothing and waits for `sync --once --allow-retractions`",
    )
    retraction_guard_rows: int = Field(
        default=25, ge=0, description="withdrawals a cycle may always make, whatever the share"
    )
    allow_retractions: bool = Field(
        default=False, description="turn the retraction guard off (every cycle may withdraw any number)"
    )
    write_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="the most SIS writes in flight at once; the pool narrows when the SIS answers 429 "
        "or 5xx and widens back when it keeps up (1 writes one at a time)",
    )


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class ScheduleSettings(BaseModel):
    """When ``truancy run`` syncs, in the district's time zone."""

    model_config = ConfigDict(extra="forbid")

    interval_minutes: float = Field(default=30.0, gt=0, description="between cycles during school hours")
    school_day_start: time = time(7, 0)
    school_day_end: time = time(17, 0)
    school_days: list[str] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    run_on_non_school_days: bool = False
    nightly_reconcile_at: time = Field(default=time(2, 0), description="local time of the full reconcile")
    jitter_seconds: float = Field(default=120.0, ge=0, description="a fixed per-district offset up to this")
    run_at_start: bool = True
    shutdown_grace_seconds: float = Field(default=30.0, gt=0)

    @field_validator("school_days")
    @classmethod
    def _known_weekdays(cls, days: list[str]) -> list[str]:
        unknown = sorted({d for d in days if d.lower() not in WEEKDAYS})
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {', '.join(WEEKDAYS)}")
        return [d.lower() for d in days]

    @model_validator(mode="after")
    def _day_is_not_empty(self) -> ScheduleSettings:
        if self.school_day_end <= self.school_day_start:
            raise ValueError("school_day_end must be later than school_day_start")
        return self


class HealthSettings(BaseModel):
    """The loopback HTTP endpoint for IT staff: /healthz, /readyz, /metrics and the status page."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535, description="0 picks a free port")
    ready_max_age_hours: float = Field(
        default=26.0, gt=0, description="/readyz fails when the last successful cycle is older"
    )

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"{host!r} is not a loopback address; the status page shows sync internals, so it "
                f"listens only on {', '.join(LOOPBACK_HOSTS)} (put a reverse proxy in front for more)"
            )
        return host


class SentrySettings(BaseModel):
    """Optional error reporting (``pip install truancy-sync[sentry]``); scrubbed of student data."""

    model_config = ConfigDict(extra="forbid")

    dsn: SecretStr | None = None
    environment: str = "production"


class MappingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code_map: Path | None = Field(default=None, description="attendance code map; default: the plugin's")
    policy_overrides: Path | None = Field(default=None, description="district override of the state pack")


class SisSettings(BaseModel):
    """``plugin`` picks the SIS plugin; the rest of the section belongs to that plugin."""

    model_config = ConfigDict(extra="allow")

    plugin: str = "powerschool"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRUANCY_",
        env_nested_delimiter="__",
        extra="forbid",
        nested_model_default_partial_update=True,
    )

    district: DistrictSettings = DistrictSettings()
    store: StoreSettings = StoreSettings()
    files: FilesSettings = FilesSettings()
    retention: RetentionSettings = RetentionSettings()
    caseloads: CaseloadSettings = CaseloadSettings()
    outcomes: OutcomesSettings = OutcomesSettings()
    notices: NoticeSettings = NoticeSettings()
    http: HttpSettings = HttpSettings()
    sync: SyncSettings = SyncSettings()
    mappings: MappingSettings = MappingSettings()
    sis: SisSettings = SisSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    health: HealthSettings = HealthSettings()
    sentry: SentrySettings = SentrySettings()
    casework: CaseworkSettings = CaseworkSettings()

    config_dir: Path = Field(default=Path("."), exclude=True)


def load_settings(path: Path | None, *, secrets_dir: Path | None = None) -> Settings:
    """Read settings from ``path`` (optional), the environment and ``secrets_dir``."""
    if path is not None and not path.is_file():
        raise SettingsError(f"settings file {path} does not exist")
    if path is not None:
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, file_secret_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    config_dir = path.resolve().parent if path is not None else Path.cwd()
    init: dict[str, Any] = {"config_dir": config_dir}
    try:
        settings = _FileSettings(_secrets_dir=secrets_dir, **init)
    except ValidationError as exc:
        where = str(path) if path is not None else "settings"
        problems = "; ".join(problem_text(Settings, "", err) for err in exc.errors())
        raise SettingsError(f"{where}: {problems}") from None
    return Settings.model_validate(settings.model_dump() | {"config_dir": config_dir})


def resolve_path(settings: Settings, path: Path) -> Path:
    """A path from the settings file, relative to that file's folder."""
    return path if path.is_absolute() else settings.config_dir / path
