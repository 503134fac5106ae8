"""The request gate's width: halved once per burst of pushback, grown back a place per clean window,
and a hard limit on attempts in flight across threads."""

from __future__ import annotations

import threading
import time

import pytest

from truancy.connector.gate import RequestGate


def test_the_width_halves_once_per_burst_and_never_below_one() -> None:
    gate = RequestGate(8)
    assert gate.allowed == 8
    held = [gate.slot() for _ in range(8)]
    for slot in held:
        slot.__enter__()
    held.pop().__exit__(None, None, None)
    gate.pushed_back()  # the first refusal of a burst, seven requests still out
    assert gate.allowed == 4
    while held:  # the seven answer: refusals of the same burst
        held.pop().__exit__(None, None, None)
        gate.pushed_back()
        assert gate.allowed == 4
    gate.pushed_back()  # a refusal from a request sent after the narrowing
    assert gate.allowed == 2
    for _ in range(10):
        gate.pushed_back()
    assert gate.allowed == 1
    assert gate.lowest == 1
    assert gate.decreases == 3


def test_the_width_grows_back_by_one_per_clean_window_up_to_the_ceiling() -> None:
    gate = RequestGate(6)
    gate.pushed_back()
    assert gate.allowed == 3
    widths = []
    for _ in range(40):
        gate.went_through()
        widths.append(gate.allowed)
    assert widths[:4] == [3, 3, 4, 4]
    assert sorted(widths) == widths
    assert widths[-1] == 6


def test_a_ceiling_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RequestGate(0)


def test_no_more_attempts_than_the_width_are_ever_in_flight() -> None:
    gate = RequestGate(4)
    gate.pushed_back()  # width 2
    in_flight, peak, lock = [0], [0], threading.Lock()

    def attempt() -> None:
        with gate.slot():
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.01)
            with lock:
                in_flight[0] -= 1

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] <= 2
    assert in_flight[0] == 0
