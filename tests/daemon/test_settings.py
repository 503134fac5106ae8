"""Settings: TOML file, environment over file, secrets from files, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from truancy.daemon.runtime import build_plugin, store_engine
from truancy.daemon.settings import SettingsError, load_settings
from truancy.plugins.base import PluginConfigError

CONFIG = """
[district]
id = "unified-1"
state = "TX"

[store]
url = "sqlite:///state/truancy.db"

[sis]
plugin = "powerschool"

[sis.oneroster]
base_url = "https://sis.example.org/ims/oneroster/rostering/v1p2"
token_url = "https://sis.example.org/oauth/token"
client_id = "roster"
client_secret_file = "roster.secret"

[sis.powerschool]
base_url = "https://sis.example.org"
client_id = "ps"
client_secret = "from-the-file"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "truancy.toml"
    path.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "roster.secret").write_text("s3cret\n", encoding="utf-8")
    return path


def test_file_values_and_relative_paths(config: Path) -> None:
    settings = load_settings(config)
    assert settings.district.id == "unified-1"
    assert settings.district.state == "TX"
    assert settings.config_dir == config.parent
    assert str(store_engine(settings).url) == f"sqlite:///{config.parent}/state/truancy.db"


def test_environment_overrides_the_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUANCY_DISTRICT__STATE", "PA")
    monkeypatch.setenv("TRUANCY_SIS__POWERSCHOOL__CLIENT_SECRET", "from-the-environment")
    settings = load_settings(config)
    assert settings.district.state == "PA"
    sis = settings.sis.model_dump()
    assert sis["powerschool"]["client_secret"] == "from-the-environment"
    assert sis["powerschool"]["client_id"] == "ps"  # the rest of the section still comes from the file


def test_secret_file_is_read_relative_to_the_config(config: Path) -> None:
    plugin = build_plugin(load_settings(config))
    try:
        assert plugin.name == "powerschool"
    finally:
        plugin.close()


def test_missing_secret_file_names_the_key(config: Path) -> None:
    (config.parent / "roster.secret").unlink()
    with pytest.raises(PluginConfigError, match="client_secret_file"):
        build_plugin(load_settings(config))


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[district]\nstat = "CA"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"district\.stat"):
        load_settings(path)


def test_broken_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[district\nid = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(path)


def test_plugin_section_errors_name_the_key(config: Path) -> None:
    config.write_text(CONFIG.replace('client_id = "ps"\n', ""), encoding="utf-8")
    with pytest.raises(PluginConfigError, match=r"sis\.powerschool\.client_id"):
        build_plugin(load_settings(config))


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_time_zone_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tz.toml"
    path.write_text('[district]\ntimezone = "America/Springfield"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="IANA time zone"):
        load_settings(path)
