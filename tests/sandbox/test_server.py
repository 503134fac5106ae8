"""The runner: a subprocess server that leaves nothing behind, and the daemon config writer."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import requests

from tests.sandbox.helpers import TIMEOUT
from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.server import SandboxServer, write_daemon_config


def test_subprocess_server_serves_and_stops() -> None:
    server = SandboxServer(
        students=30, seed=1, in_process=False, client_secret="other-secret", as_of=PINNED_AS_OF
    )
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        token = requests.post(
            f"{server.url}/oauth/access_token",
            auth=("sandbox", "other-secret"),
            data={"grant_type": "client_credentials"},
            timeout=TIMEOUT,
        )
        assert token.status_code == 200
        process = server._process
        assert process is not None
        with pytest.raises(RuntimeError):
            _ = server.district
    assert process.poll() is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/", timeout=TIMEOUT)


def test_in_process_server_stops_listening() -> None:
    with SandboxServer(students=5, seed=1, as_of=PINNED_AS_OF) as server:
        url = server.url
        assert requests.get(f"{url}/", timeout=TIMEOUT).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/", timeout=TIMEOUT)


def test_daemon_config_points_at_the_sandbox(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "truancy.toml"
    write_daemon_config(path, "http://127.0.0.1:5555")
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert config["district"] == {
        "id": "sandbox",
        "name": "Sandbox Unified School District",
        "state": "CA",
        "timezone": "America/Los_Angeles",
    }
    assert config["store"]["url"] == f"sqlite:///{path.parent.resolve()}/truancy-state.db"
    assert config["sis"]["plugin"] == "powerschool"
    assert config["sis"]["oneroster"] == {
        "base_url": "http://127.0.0.1:5555/ims/oneroster/rostering/v1p2",
        "token_url": "http://127.0.0.1:5555/oauth/token",
        "client_id": "sandbox",
        "client_secret": "sandbox",
    }
    assert config["sis"]["powerschool"] == {
        "base_url": "http://127.0.0.1:5555",
        "client_id": "sandbox",
        "client_secret": "sandbox",
    }
