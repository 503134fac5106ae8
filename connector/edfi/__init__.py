"""Ed-Fi ODS/API client: discovery, OAuth 2, paging, change queries and ETag-guarded writes."""

from truancy.connector.edfi.client import ChangeWindow, EdFiClient, StaleEtagError, WriteResult
from truancy.connector.edfi.discovery import EdFiUrls, discover, open_session
from truancy.connector.edfi.problems import describe_problem

__all__ = [
    "ChangeWindow",
    "EdFiClient",
    "EdFiUrls",
    "StaleEtagError",
    "WriteResult",
    "describe_problem",
    "discover",
    "open_session",
]
