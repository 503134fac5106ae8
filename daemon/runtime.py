"""Build what a sync needs from settings: the store, the SIS plugin, the policy pack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from truancy.daemon.files import Privacy
from truancy.daemon.settings import Settings, SettingsError, resolve_path
from truancy.daemon.store import create_store_engine, upgrade
from truancy.mappings.policy import Policy, load_policy
from truancy.plugins.base import PluginConfigError, SisPlugin, check_contract, load_plugin


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    plugin: SisPlugin
    policy: Policy


def build_policy(settings: Settings) -> Policy:
    overrides = settings.mappings.policy_overrides
    policy = load_policy(
        settings.district.state, overrides=resolve_path(settings, overrides) if overrides else None
    )
    if policy.case is None:
        raise SettingsError(
            f"policy pack {policy.id} has no `case:` section (tiers and tasks); the daemon needs one: "
            "add it in mappings.policy_overrides"
        )
    return policy


def build_plugin(settings: Settings) -> SisPlugin:
    factory = load_plugin(settings.sis.plugin)
    raw = settings.sis.model_dump()
    if settings.mappings.code_map is not None:
        if raw.get("code_map") is not None:
            raise SettingsError(
                "the code map is set twice, as mappings.code_map and as sis.code_map: keep one, so "
                "the map a sync counts with is the one you read"
            )
        raw["code_map"] = str(resolve_path(settings, settings.mappings.code_map))
    plugin = factory(raw, options=settings.http.connection_options(), config_dir=settings.config_dir)
    # Its ownership may come from the district's field map: checked once built, before any sync.
    try:
        check_contract(plugin, f"plugin {settings.sis.plugin!r}")
    except PluginConfigError:
        plugin.close()
        raise
    return plugin


SQLITE_PREFIX = "sqlite:///"


def store_url(settings: Settings) -> str:
    url = settings.store.url
    if url.startswith(SQLITE_PREFIX) and not url.startswith(SQLITE_PREFIX + "/") and ":memory:" not in url:
        # A relative SQLite path is relative to the settings file, not to wherever the CLI runs.
        url = SQLITE_PREFIX + str(resolve_path(settings, Path(url[len(SQLITE_PREFIX) :])))
    return url


def sqlite_files(settings: Settings) -> list[Path]:
    """The files of a SQLite store (database, journal, WAL, shared memory, lock); none for PostgreSQL."""
    url = store_url(settings)
    if not url.startswith(SQLITE_PREFIX) or ":memory:" in url:
        return []
    database = Path(url[len(SQLITE_PREFIX) :].split("?", 1)[0])
    return [database, *(database.with_name(database.name + s) for s in ("-journal", "-wal", "-shm", ".lock"))]


def store_engine(settings: Settings) -> Engine:
    url = store_url(settings)
    store = settings.store
    ca = store.sslrootcert
    if ca is not None and ca != "system":
        ca = str(resolve_path(settings, Path(ca)))
    return create_store_engine(url, privacy=privacy(settings), sslmode=store.sslmode, sslrootcert=ca)


def privacy(settings: Settings) -> Privacy:
    """Who may read the files the daemon writes: its own user, or the group ``files.group`` names."""
    return Privacy(settings.files.group)


@contextmanager
def runtime(settings: Settings) -> Iterator[Runtime]:
    policy = build_policy(settings)
    engine = store_engine(settings)
    upgrade(engine)
    plugin = build_plugin(settings)
    try:
        yield Runtime(settings, engine, plugin, policy)
    finally:
        plugin.close()
        engine.dispose()
