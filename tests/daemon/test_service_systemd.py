"""sd_notify over a real datagram socket, as systemd receives it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from truancy.daemon.systemd import Notifier, watchdog_interval


def test_notifier_sends_readiness_and_watchdog_datagrams(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(5)
        notifier = Notifier(address)
        notifier.ready("syncing")
        notifier.watchdog()
        notifier.stopping()
        received = [listener.recv(4096).decode() for _ in range(3)]
    assert received == ["READY=1\nSTATUS=syncing", "WATCHDOG=1", "STOPPING=1"]


def test_without_notify_socket_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.ready("ignored")


def test_watchdog_interval_is_half_of_watchdog_sec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "120000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval() is None
