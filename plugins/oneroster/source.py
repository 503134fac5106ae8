"""The roster source a ``[sis.oneroster]`` section describes: OneRoster REST 1.1/1.2 or a CSV package.

REST 1.1 signs with OAuth 1.0a by default practice, 1.2 takes OAuth 2 client credentials; either
version accepts either ``auth``, because providers mix them.
"""

from __future__ import annotations

from dataclasses import dataclass

from requests.auth import AuthBase

from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oauth1 import OAuth1Signer
from truancy.connector.oauth2 import ClientCredentials
from truancy.connector.oneroster import CsvPackage, OneRosterClient, PageSource
from truancy.plugins.base import ConnectionOptions
from truancy.plugins.oneroster.config import OneRosterConfig


@dataclass(frozen=True, slots=True)
class RosterSource:
    """Where roster pages come from; ``session`` is None for a CSV package."""

    pages: PageSource
    session: HttpSession | None

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        if isinstance(self.pages, CsvPackage):
            self.pages.close()


def open_roster_source(config: OneRosterConfig, options: ConnectionOptions) -> RosterSource:
    if config.csv_package is not None:
        return RosterSource(CsvPackage(config.csv_package, page_size=config.page_size), None)
    assert config.base_url is not None  # the config model requires it without csv_package
    retry = RetryPolicy(max_attempts=options.max_attempts)
    session = HttpSession(
        config.base_url,
        auth=_auth(config, options, retry),
        timeout=(options.connect_timeout, options.read_timeout),
        retry=retry,
        verify=options.verify_tls,
        name="sis.oneroster",
    )
    return RosterSource(OneRosterClient(session, page_size=config.page_size), session)


def _auth(config: OneRosterConfig, options: ConnectionOptions, retry: RetryPolicy) -> AuthBase:
    assert config.client_id is not None
    if config.auth == "oauth1":
        return OAuth1Signer(config.client_id, config.secret(), signature_method=config.signature_method)
    assert config.token_url is not None
    return ClientCredentials(
        config.token_url,
        config.client_id,
        config.secret(),
        scopes=config.scopes or None,
        verify=options.verify_tls,
        retry=retry,
        name="sis.oneroster",
    )
