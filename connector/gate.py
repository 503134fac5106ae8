"""How many requests may be in flight to a SIS at once, adapting to how it copes.

Several writes side by side hide a distant SIS's round trip, but a SIS refuses what it cannot take
(429, or 503 when overloaded). The gate's width therefore adapts as TCP's congestion window does
(additive increase, multiplicative decrease): halved when the SIS pushes back, widened by one after
a window's worth of requests went through, never above its ceiling nor below one. The refusals of
requests that were already in flight when it narrowed are the same burst and do not narrow it again.

Every attempt passes the gate, retries included, so after a ``Retry-After`` only as many requests go
out again as the narrowed width allows.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RequestGate:
    """An AIMD limit on requests in flight, shared by every thread and session it is given to."""

    def __init__(self, ceiling: int) -> None:
        if ceiling < 1:
            raise ValueError("a request gate needs a ceiling of at least 1")
        self.ceiling = ceiling
        self.width = float(ceiling)
        self.lowest = float(ceiling)
        """The narrowest the gate has been."""
        self.decreases = 0
        self._in_flight = 0
        self._burst_left = 0
        """Answers still due from requests sent before the last decrease: the same burst."""
        self._since_increase = 0
        self._changed = threading.Condition()

    @property
    def allowed(self) -> int:
        return max(1, math.floor(self.width))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``allowed`` places for the duration of one attempt."""
        with self._changed:
            while self._in_flight >= self.allowed:
                self._changed.wait()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify()

    def pushed_back(self) -> None:
        """The SIS refused or failed a request (call after its slot is released): halve, unless
        this burst already did."""
        with self._changed:
            self._since_increase = 0
            if self._burst_left > 0:
                self._burst_left -= 1
            elif self.width > 1:
                self.width = max(1.0, self.width / 2)
                self.lowest = min(self.lowest, self.width)
                self.decreases += 1
                self._burst_left = self._in_flight

    def went_through(self) -> None:
        """A request was answered: after a whole window of them, one more place."""
        with self._changed:
            self._burst_left = max(0, self._burst_left - 1)
            self._since_increase += 1
            if self._since_increase >= self.allowed and self.width < self.ceiling:
                self.width = min(float(self.ceiling), self.width + 1)
                self._since_increase = 0
                self._changed.notify_all()
