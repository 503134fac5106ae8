"""The ODS/API discovery document (``GET /``): where the token, data and change-query endpoints live.

Year-specific and instance deployments publish templated URLs (``.../{schoolYearFromRoute}/data/v3/``);
the district's ``school_year`` and ``instance`` fill them in, and a placeholder left unfilled is a
configuration problem named in the error, not a 404 halfway through a sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from requests.auth import AuthBase

from truancy.connector.errors import ConfigurationError, ProtocolError
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oauth2 import ClientCredentials

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True, slots=True)
class EdFiUrls:
    """Absolute endpoint roots, each ending without a slash."""

    oauth: str
    data: str
    change_queries: str
    data_model_version: str | None

    def resource(self, name: str) -> str:
        """``ed-fi/studentSchoolAttendanceEvents`` → the resource's absolute URL."""
        return f"{self.data}/{name.strip('/')}"


def _fill(url: str, school_year: int | None, instance: str | None, name: str) -> str:
    def replace(match: re.Match[str]) -> str:
        placeholder = match.group(1).lower()
        if "year" in placeholder and school_year is not None:
            return str(school_year)
        if ("instance" in placeholder or "tenant" in placeholder) and instance is not None:
            return instance
        setting = "school_year" if "year" in placeholder else "instance"
        raise ConfigurationError(f"{name}: the ODS/API routes by {{{match.group(1)}}}; set {name}.{setting}")

    return _PLACEHOLDER.sub(replace, url).rstrip("/")


def parse_discovery(
    document: Any, *, school_year: int | None, instance: str | None, name: str = "sis.edfi"
) -> EdFiUrls:
    """The endpoint roots a discovery document names, with route placeholders filled in."""
    urls = document.get("urls") if isinstance(document, Mapping) else None
    if not isinstance(urls, Mapping):
        raise ProtocolError(f"{name}: the discovery document has no 'urls' object; is base_url an ODS/API?")
    missing = [key for key in ("oauth", "dataManagementApi") if not isinstance(urls.get(key), str)]
    if missing:
        raise ProtocolError(f"{name}: the discovery document lacks urls.{', urls.'.join(missing)}")
    data = _fill(str(urls["dataManagementApi"]), school_year, instance, name)
    changes = urls.get("changeQueries")
    if isinstance(changes, str):
        change_queries = _fill(changes, school_year, instance, name)
    else:
        change_queries = re.sub(r"/data/v3$", "/changeQueries/v1", data)
    models = document.get("dataModels")
    version = next(
        (
            str(model.get("version"))
            for model in models or ()
            if isinstance(model, Mapping) and model.get("name") == "Ed-Fi"
        ),
        None,
    )
    oauth = _fill(str(urls["oauth"]), school_year, instance, name)
    return EdFiUrls(oauth=oauth, data=data, change_queries=change_queries, data_model_version=version)


def discover(
    base_url: str,
    *,
    school_year: int | None = None,
    instance: str | None = None,
    timeout: float | tuple[float, float] = (5, 60),
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
    verify: bool | str = True,
    name: str = "sis.edfi",
) -> EdFiUrls:
    """Read the discovery document at ``base_url`` (it needs no token)."""
    with HttpSession(base_url, timeout=timeout, retry=retry, verify=verify, name=name) as session:
        response = session.get("")
        try:
            document = response.json()
        except ValueError:
            raise ProtocolError(f"{name}: the discovery document at base_url is not JSON") from None
    return parse_discovery(document, school_year=school_year, instance=instance, name=name)


def open_session(
    urls: EdFiUrls,
    client_id: str,
    client_secret: str,
    *,
    timeout: float | tuple[float, float] = (5, 60),
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
    verify: bool | str = True,
    name: str = "sis.edfi",
) -> HttpSession:
    """A session rooted at the data API, authorised with client credentials (Ed-Fi uses no scopes)."""
    auth: AuthBase = ClientCredentials(
        urls.oauth, client_id, client_secret, timeout=timeout, retry=retry, verify=verify, name=name
    )
    return HttpSession(urls.data, auth=auth, timeout=timeout, retry=retry, verify=verify, name=name)
