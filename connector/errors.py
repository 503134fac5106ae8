"""Errors grouped by what the caller should do about them, not by where they were raised.

- ``ConfigurationError``: a person must fix settings (credentials, scopes, URL); retrying is pointless.
- ``TransientError``: the SIS is down or throttling; the next cycle will likely succeed.
- ``ProtocolError``: the SIS answered with something this client cannot read.
- ``HttpStatusError``: any other refused request (4xx), with the server's own summary.

Messages name endpoints by path template only and never carry tokens, secrets, query strings or
record contents, so they are safe to log and to show on a status page.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error raised by ``truancy.connector``."""


class ConfigurationError(ConnectorError):
    """The SIS refused us for a reason only a configuration change can fix."""


class TransientError(ConnectorError):
    """The SIS could not be reached or kept failing after every allowed attempt."""


class ProtocolError(ConnectorError):
    """The SIS sent a payload that does not have the documented shape."""


class HttpStatusError(ConnectorError):
    """A 4xx answer that is neither an authentication nor an authorisation problem."""

    def __init__(self, message: str, *, status: int, summary: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.summary = summary
