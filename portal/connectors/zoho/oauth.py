"""Zoho's accounts server: consent URL, code exchange and refresh at the data centre the consent named, revoke.

Zoho is multi-DC (FACTS.md §1): the consent always starts at accounts.zoho.com, the redirect names the user's
``accounts-server``, and every token call must go there. That parameter comes back through the user's browser,
so it is checked against the known accounts servers before the code and our client secret are sent to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from portal.connectors.base import TokenGrant
from portal.connectors.errors import AuthRevoked, ConnectorError, Invalid, Transient

# Zoho's scopes are comma-separated (FACTS.md §1).
DEFAULT_SCOPES = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.settings.layouts.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.notifications.ALL",
    "ZohoCRM.coql.READ",
    "ZohoCRM.bulk.READ",
)

# Accounts servers by data centre (FACTS.md §1); the list is open-ended, so unknown hosts are refused.
REAL_ACCOUNTS_SERVERS = {
    "us": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "cn": "https://accounts.zoho.com.cn",
    "ca": "https://accounts.zohocloud.ca",
    "sa": "https://accounts.zoho.sa",
    "uk": "https://accounts.zoho.uk",
}
REAL_API_DOMAIN_SUFFIXES = ("zohoapis.com", "zohoapis.eu", "zohoapis.in", "zohoapis.com.au", "zohoapis.jp",
                            "zohoapis.com.cn", "zohoapis.ca", "zohoapis.sa", "zohoapis.uk")

# Zoho answers these errors with HTTP 200 and an `error` body (FACTS.md §1).
REVOKED_ERRORS = frozenset({"invalid_code", "invalid_grant", "access_denied", "Access Denied"})


@dataclass(frozen=True)
class ZohoAccounts:
    """Where consent starts and which accounts servers / API domains are trusted."""

    authorize_url: str
    accounts_servers: frozenset[str]
    api_domain_check: Any  # callable: str -> bool

    @classmethod
    def real(cls) -> ZohoAccounts:
        def is_zoho_api(domain: str) -> bool:
            parts = urlsplit(domain)
            return parts.scheme == "https" and any(
                parts.hostname is not None and (parts.hostname == suffix or parts.hostname.endswith("." + suffix))
                for suffix in REAL_API_DOMAIN_SUFFIXES)

        return cls("https://accounts.zoho.com/oauth/v2/auth", frozenset(REAL_ACCOUNTS_SERVERS.values()), is_zoho_api)

    @classmethod
    def sandbox(cls, base_url: str) -> ZohoAccounts:
        base = base_url.rstrip("/") + "/zoho"
        return cls(f"{base}/accounts/oauth/v2/auth", frozenset({f"{base}/accounts"}),
                   lambda domain: domain.rstrip("/") == base)


@dataclass(frozen=True)
class ZohoTokenResponse:
    grant: TokenGrant
    api_domain: str


class ZohoOAuth:
    def __init__(self, accounts: ZohoAccounts, client_id: str, client_secret: str,
                 scopes: tuple[str, ...] = DEFAULT_SCOPES, timeout: float = 20.0) -> None:
        self.accounts = accounts
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.timeout = timeout

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        session = OAuth2Session(self.client_id, redirect_uri=redirect_uri, scope=",".join(self.scopes), state=state)
        # A refresh token comes only with access_type=offline and a consent the user sees (FACTS.md §1).
        url, _ = session.authorization_url(self.accounts.authorize_url, access_type="offline", prompt="consent")
        return str(url)

    def trusted_accounts_server(self, accounts_server: str) -> str:
        server = accounts_server.rstrip("/")
        if server not in self.accounts.accounts_servers:
            raise Invalid(f"{accounts_server!r} is not a Zoho accounts server", code="untrusted_accounts_server")
        return server

    def exchange_code(self, code: str, redirect_uri: str, accounts_server: str) -> ZohoTokenResponse:
        server = self.trusted_accounts_server(accounts_server)
        session = OAuth2Session(self.client_id, redirect_uri=redirect_uri, scope=",".join(self.scopes))
        token = self._token_call(lambda: session.fetch_token(
            f"{server}/oauth/v2/token", code=code, client_secret=self.client_secret, include_client_id=True,
            timeout=self.timeout,
        ))
        api_domain = str(token.get("api_domain") or "").rstrip("/")
        if not self.accounts.api_domain_check(api_domain):
            raise Invalid(f"{api_domain!r} is not a Zoho API domain", code="untrusted_api_domain")
        if not token.get("refresh_token"):
            raise ConnectorError("Zoho granted no refresh token: the consent must be given with offline access",
                                 code="no_refresh_token")
        return ZohoTokenResponse(_grant(token), api_domain)

    def refresh(self, refresh_token: str, accounts_server: str) -> TokenGrant:
        server = self.trusted_accounts_server(accounts_server)
        session = OAuth2Session(self.client_id, token={"refresh_token": refresh_token, "token_type": "Bearer"})
        token = self._token_call(lambda: session.refresh_token(
            f"{server}/oauth/v2/token", refresh_token=refresh_token, client_id=self.client_id,
            client_secret=self.client_secret, timeout=self.timeout,
        ))
        # Zoho refresh tokens do not rotate: the answer carries none, and the stored one stays valid.
        grant = _grant(token)
        return TokenGrant(grant.access_token, grant.expires_in, None, grant.scope)

    def revoke(self, refresh_token: str, accounts_server: str) -> None:
        server = self.trusted_accounts_server(accounts_server)
        try:
            response = requests.post(f"{server}/oauth/v2/token/revoke", params={"token": refresh_token},
                                     timeout=self.timeout)
        except requests.RequestException as error:
            raise Transient(f"could not reach Zoho to revoke the token: {error}") from error
        if response.status_code >= 400:
            raise ConnectorError(f"Zoho refused the revocation: HTTP {response.status_code}",
                                 status=response.status_code)

    @staticmethod
    def _token_call(call: Any) -> dict[str, Any]:
        try:
            token: dict[str, Any] = call()
        except OAuth2Error as error:
            if error.error in REVOKED_ERRORS:
                raise AuthRevoked(error.description or error.error, code=error.error) from error
            raise ConnectorError(error.description or error.error or str(error), code=error.error) from error
        except requests.RequestException as error:
            raise Transient(f"could not reach Zoho's accounts server: {error}") from error
        if "error" in token:  # some Zoho answers pass oauthlib's checks and still carry an error
            code = str(token["error"])
            if code in REVOKED_ERRORS:
                raise AuthRevoked(str(token.get("error_description") or code), code=code)
            raise ConnectorError(str(token.get("error_description") or code), code=code)
        return token


def _grant(token: dict[str, Any]) -> TokenGrant:
    return TokenGrant(
        access_token=str(token["access_token"]),
        expires_in=int(token.get("expires_in", 3600)),
        refresh_token=token.get("refresh_token"),
        scope=token.get("scope") if isinstance(token.get("scope"), str) else None,
    )
