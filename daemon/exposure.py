"""Refuse to start when secrets or student data can be read by others, as ssh refuses a readable key.

Checked before ``truancy run`` and ``truancy sync`` touch anything: the SQLite store and its side
files, the secrets folder and every file in it, each ``*_file`` secret the settings name, and the
settings file itself when it holds a secret inline. The message names the path and the ``chmod`` that
fixes it; nothing is changed silently, because a file that was readable may already have been read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from truancy.daemon.files import FileAccessError, require_private
from truancy.daemon.runtime import sqlite_files
from truancy.daemon.settings import Settings, SettingsError, resolve_path

SECRET_KEY = re.compile(r"(secret|password|passwd|token|dsn|private_key|api_key)$", re.IGNORECASE)
SECRET_FILE_KEY = re.compile(r"(secret|password|passwd|token|dsn|key)_file$", re.IGNORECASE)


class ExposedFileError(SettingsError):
    """A secret or the state store that others can read: fix its mode before the daemon starts."""


def refuse_exposed(settings: Settings, config: Path | None, secrets_dir: Path | None) -> None:
    """Raise :class:`ExposedFileError` naming the first file others could read, and its fix."""
    try:
        _check(settings, config, secrets_dir)
    except FileAccessError as exc:
        raise ExposedFileError(str(exc)) from None


def _check(settings: Settings, config: Path | None, secrets_dir: Path | None) -> None:
    for path in sqlite_files(settings):
        require_private(path, "the state store's file")
    if secrets_dir is not None and secrets_dir.is_dir():
        require_private(secrets_dir, "secrets folder")
        for path in sorted(secrets_dir.iterdir()):
            require_private(path, "secret file")
    for path in _secret_files(settings.model_dump(mode="json")):
        require_private(resolve_path(settings, path), "secret file")
    if config is not None and config.is_file():
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
        if any(True for _ in _inline_secrets(raw)):
            require_private(config, "settings file (it holds a secret)")


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key), item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _secret_files(settings: Mapping[str, Any]) -> Iterator[Path]:
    for key, value in _walk(settings):
        if SECRET_FILE_KEY.search(key) and isinstance(value, str) and value:
            yield Path(value)


def _inline_secrets(raw: Mapping[str, Any]) -> Iterator[str]:
    """Keys of the TOML that carry a secret: a secret-named value, or a URL with a password."""
    for key, value in _walk(raw):
        if not isinstance(value, str) or not value:
            continue
        if SECRET_KEY.search(key) or ("://" in value and _has_password(value)):
            yield key


def _has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except ArgumentError:
        return False
