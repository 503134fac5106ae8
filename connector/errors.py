"""Errors grouped by what the caller should do about them, not by where they were raised.

Every error carries a :class:`FailureType`, the one vocabulary the pipeline, the service, the status
page and the metrics share:

- ``configuration``: a person must fix settings (credentials, scopes, URL); retrying is pointless.
- ``transient``: the SIS is down, throttling or busy; the next cycle will likely succeed.
- ``data``: the SIS sent or refused a record; the rest of the sync goes on.
- ``internal``: a fault in this program (anything that is not a connector error).

``ProtocolError`` is a payload without the documented shape; ``HttpStatusError`` any other refused
request (4xx), with the server's own summary. ``RowError`` is a refusal of one record (a write to a
student the API key is not associated with, a record that kept changing while it was merged): the
caller counts it and goes on with the other rows.

Messages name endpoints by path template only and never carry tokens, secrets, query strings or
record contents, so they are safe to log and to show on a status page.
"""

from __future__ import annotations

from enum import StrEnum


class FailureType(StrEnum):
    CONFIGURATION = "configuration"
    TRANSIENT = "transient"
    DATA = "data"
    INTERNAL = "internal"


class ConnectorError(Exception):
    """Base of every error raised by ``truancy.connector``."""

    failure: FailureType = FailureType.DATA


class ConfigurationError(ConnectorError):
    """The SIS refused us for a reason only a configuration change can fix."""

    failure = FailureType.CONFIGURATION


class TransientError(ConnectorError):
    """The SIS could not be reached or kept failing after every allowed attempt."""

    failure = FailureType.TRANSIENT


class ProtocolError(ConnectorError):
    """The SIS sent a payload that does not have the documented shape."""


class HttpStatusError(ConnectorError):
    """A 4xx answer that is neither an authentication nor an authorisation problem."""

    def __init__(self, message: str, *, status: int, summary: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.summary = summary


class RowError(ConnectorError):
    """The SIS refused one record; the others go on.

    ``reason`` is a short fixed phrase (no ids, no content) to count refusals by; ``failure`` says
    who must act (a configuration refusal of one row still needs a person, but stops nothing else).
    """

    def __init__(self, message: str, *, reason: str, failure: FailureType = FailureType.DATA) -> None:
        super().__init__(message)
        self.reason = reason
        self.failure = failure


def failure_of(exc: BaseException) -> FailureType:
    """What kind of failure ``exc`` is: a connector error says; anything else is ``internal``."""
    if isinstance(exc, ConnectorError):
        return exc.failure
    return FailureType.INTERNAL
