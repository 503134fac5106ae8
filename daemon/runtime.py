"""Build what a sync needs from settings: the store, the SIS plugin, the policy pack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from truancy.daemon.settings import Settings, SettingsError, resolve_path
from truancy.daemon.store import create_store_engine, upgrade
from truancy.mappings.policy import Policy, load_policy
from truancy.plugins.base import SisPlugin, load_plugin


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
        raw["code_map"] = str(resolve_path(settings, settings.mappings.code_map))
    return factory(raw, options=settings.http.connection_options(), config_dir=settings.config_dir)


def store_engine(settings: Settings) -> Engine:
    url = settings.store.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        # A relative SQLite path is relative to the settings file, not to wherever the CLI runs.
        url = prefix + str(resolve_path(settings, Path(url[len(prefix) :])))
    return create_store_engine(url)


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
