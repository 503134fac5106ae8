"""The state store for commands that only read it (status, mappings history and impact).

Opening a SQLite URL creates the file, so a read-only command run in the wrong folder, or with a
mistyped ``store.url``, would leave an empty store behind and report "no history". These commands
open only a store that exists.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, make_url

from truancy.daemon.runtime import store_engine, store_url
from truancy.daemon.settings import Settings
from truancy.daemon.store import StoreError


def existing_store(settings: Settings) -> Engine:
    """An engine on the configured store; StoreError when it is a SQLite file that does not exist."""
    url = make_url(store_url(settings))
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database and ":memory:" not in database and not Path(database).is_file():
        raise StoreError(
            f"no state store at {database}: check store.url, or run `truancy sync --once` to create it"
        )
    return store_engine(settings)
