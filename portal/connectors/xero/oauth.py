"""Xero's identity service: consent URL, code exchange, refresh, revocation, and the /connections list.

The same code talks to login.xero.com / identity.xero.com / api.xero.com or to the sandbox; only URLs differ.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import requests
from oauthlib.oauth2 import OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from portal.connectors.base import TokenGrant
from portal.connectors.errors import AuthRevoked, ConnectorError, NotFound, Transient

# What the sync needs (FACTS.md §1): contacts, settings (items, accounts, tax rates, organisation), invoices and
# payments (granular scopes of apps created since March 2026), the three reports the dashboard reads, and
# offline_access for a refresh token.
DEFAULT_SCOPES = (
    "openid", "profile", "email", "offline_access",
    "accounting.contacts", "accounting.settings", "accounting.invoices", "accounting.payments",
    "accounting.reports.profitandloss.read", "accounting.reports.banksummary.read",
    "accounting.reports.aged.read",
)


@dataclass(frozen=True)
class XeroEndpoints:
    authorize: str
    token: str
    revocation: str
    connections: str
    api: str

    @classmethod
    def real(cls) -> XeroEndpoints:
        return cls(
            authorize="https://login.xero.com/identity/connect/authorize",
            token="https://identity.xero.com/connect/token",  # noqa: S106 - a URL, not a password
            revocation="https://identity.xero.com/connect/revocation",
            connections="https://api.xero.com/connections",
            api="https://api.xero.com/api.xro/2.0",
        )

    @classmethod
    def sandbox(cls, base_url: str) -> XeroEndpoints:
        base = base_url.rstrip("/") + "/xero"
        return cls(
            authorize=f"{base}/identity/connect/authorize",
            token=f"{base}/identity/connect/token",
            revocation=f"{base}/identity/connect/revocation",
            connections=f"{base}/connections",
            api=f"{base}/api.xro/2.0",
        )


@dataclass(frozen=True)
class XeroTokenResponse:
    grant: TokenGrant
    id_token: str | None


class XeroOAuth:
    def __init__(self, endpoints: XeroEndpoints, client_id: str, client_secret: str,
                 scopes: tuple[str, ...] = DEFAULT_SCOPES, timeout: float = 20.0) -> None:
        self.endpoints = endpoints
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.timeout = timeout

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        session = OAuth2Session(self.client_id, redirect_uri=redirect_uri, scope=list(self.scopes), state=state)
        url, _ = session.authorization_url(self.endpoints.authorize)
        return str(url)

    def exchange_code(self, code: str, redirect_uri: str) -> XeroTokenResponse:
        session = OAuth2Session(self.client_id, redirect_uri=redirect_uri, scope=list(self.scopes))
        token = self._token_call(lambda: session.fetch_token(
            self.endpoints.token, code=code, auth=HTTPBasicAuth(self.client_id, self.client_secret),
            include_client_id=False, timeout=self.timeout,
        ))
        return XeroTokenResponse(_grant(token), token.get("id_token"))

    def refresh(self, refresh_token: str) -> TokenGrant:
        session = OAuth2Session(self.client_id, token={"refresh_token": refresh_token, "token_type": "Bearer"})
        token = self._token_call(lambda: session.refresh_token(
            self.endpoints.token, refresh_token=refresh_token,
            auth=HTTPBasicAuth(self.client_id, self.client_secret), timeout=self.timeout,
        ))
        grant = _grant(token)
        if not grant.refresh_token:
            # Xero rotates refresh tokens on every refresh (FACTS.md §1); an answer without one is unusable.
            raise ConnectorError("Xero's token endpoint answered without a new refresh token")
        return grant

    def revoke(self, refresh_token: str) -> None:
        try:
            response = requests.post(self.endpoints.revocation, data={"token": refresh_token},
                                     auth=(self.client_id, self.client_secret), timeout=self.timeout)
        except requests.RequestException as error:
            raise Transient(f"could not reach Xero to revoke the token: {error}") from error
        if response.status_code not in (200, 204):
            raise ConnectorError(f"Xero refused the revocation: HTTP {response.status_code}",
                                 status=response.status_code)

    def connections(self, access_token: str, auth_event_id: str | None = None) -> list[dict[str, Any]]:
        params = {"authEventId": auth_event_id} if auth_event_id else None
        response = self._api_call("GET", self.endpoints.connections, access_token, params=params)
        data: list[dict[str, Any]] = response.json()
        return [connection for connection in data if connection.get("tenantType") == "ORGANISATION"]

    def disconnect(self, access_token: str, connection_id: str) -> None:
        # Already gone from Xero's side: the goal is reached.
        with contextlib.suppress(NotFound):
            self._api_call("DELETE", f"{self.endpoints.connections}/{connection_id}", access_token)

    def _api_call(self, method: str, url: str, access_token: str, **kwargs: Any) -> requests.Response:
        try:
            response = requests.request(method, url, headers={"Authorization": f"Bearer {access_token}",
                                                              "Accept": "application/json"},
                                        timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise Transient(f"could not reach Xero: {error}") from error
        if response.status_code == 404:
            raise NotFound("no such Xero connection", status=404)
        if response.status_code in (401, 403):
            raise AuthRevoked("Xero refused the access token", status=response.status_code)
        if response.status_code >= 400:
            raise ConnectorError(f"Xero answered HTTP {response.status_code}", status=response.status_code)
        return response

    @staticmethod
    def _token_call(call: Any) -> dict[str, Any]:
        try:
            token: dict[str, Any] = call()
        except OAuth2Error as error:
            # invalid_grant: the code or refresh token was used, expired or revoked (FACTS.md §1).
            if error.error in ("invalid_grant", "unauthorized_client", "access_denied"):
                raise AuthRevoked(error.error, code=error.error) from error
            raise ConnectorError(error.error or str(error), code=error.error) from error
        except requests.RequestException as error:
            raise Transient(f"could not reach Xero's token endpoint: {error}") from error
        return token


def _grant(token: dict[str, Any]) -> TokenGrant:
    scope = token.get("scope")
    return TokenGrant(
        access_token=str(token["access_token"]),
        expires_in=int(token.get("expires_in", 1800)),
        refresh_token=token.get("refresh_token"),
        scope=" ".join(scope) if isinstance(scope, list) else scope,
    )
