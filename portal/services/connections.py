"""A tenant's two connections: connect (OAuth), choose the Xero organisation, disconnect, reset, and the
connectors built from a connection for jobs.

The same code serves the real services and the sandboxes: real client credentials in the environment select
Zoho's and Xero's own servers; without them, the sandbox at ``SANDBOX_URL`` with its pre-registered client.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.connectors.base import TokenGrant, TokenSource
from portal.connectors.counters import RedisCallCounter
from portal.connectors.errors import AuthRevoked, ConnectorError, Invalid
from portal.connectors.pacing import Limits, Pacer
from portal.connectors.xero.client import XeroClient
from portal.connectors.xero.oauth import XeroEndpoints, XeroOAuth
from portal.connectors.zoho.client import ZohoClient
from portal.connectors.zoho.oauth import ZohoAccounts, ZohoOAuth
from portal.extensions import db, redis_connection
from portal.models import Connection, ConnectionStatus, Side, Tenant, User, utcnow
from portal.services.crypto import token_cipher
from portal.services.tokens import ConnectionTokens, store_grant

log = logging.getLogger(__name__)

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the sandboxes' documented, pre-registered client
STATE_SESSION_KEY = "oauth_connect"
STATE_LIFETIME_SECONDS = 15 * 60

# Xero per organisation and app (FACTS.md §2); the app-wide minute is shared by every tenant.
XERO_CONCURRENT, XERO_PER_MINUTE, XERO_APP_PER_MINUTE = 5, 60, 10_000
# Zoho: keep writes and searches at or under the sub-concurrency limit of 10 (FACTS.md §5).
ZOHO_CONCURRENT = 10


class ConnectError(Exception):
    """A connect flow that cannot finish; the message is translated and shown on the Connections page."""


@dataclass(frozen=True)
class Providers:
    xero: XeroOAuth
    zoho: ZohoOAuth
    xero_is_sandbox: bool
    zoho_is_sandbox: bool
    time_scale: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Providers:
        if settings.xero_uses_sandbox:
            xero = XeroOAuth(XeroEndpoints.sandbox(settings.sandbox_url), SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        else:
            xero = XeroOAuth(XeroEndpoints.real(), settings.xero_client_id, settings.xero_client_secret)
        if settings.zoho_uses_sandbox:
            zoho = ZohoOAuth(ZohoAccounts.sandbox(settings.sandbox_url), SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        else:
            zoho = ZohoOAuth(ZohoAccounts.real(), settings.zoho_client_id, settings.zoho_client_secret)
        # The sandbox clock only speeds up the sandboxes; real services run on real time.
        both_sandbox = settings.xero_uses_sandbox and settings.zoho_uses_sandbox
        return cls(xero, zoho, settings.xero_uses_sandbox, settings.zoho_uses_sandbox,
                   settings.sandbox_time_scale if both_sandbox else 1.0)


def settings() -> Settings:
    value: Settings = current_app.extensions["portal.settings"]
    return value


def providers() -> Providers:
    return Providers.from_settings(settings())


def redirect_uri(side: Side) -> str:
    return f"{settings().public_url}/connections/{side.value}/callback"


def connection_for(tenant: Tenant, side: Side) -> Connection:
    """The tenant's connection row for a side, created (disconnected) on first use."""
    connection = db.session.scalar(
        select(Connection).where(Connection.tenant_id == tenant.id, Connection.side == side.value)
    )
    if connection is None:
        connection = Connection(tenant_id=tenant.id, side=side, status=ConnectionStatus.DISCONNECTED)
        db.session.add(connection)
        db.session.flush()
    return connection


# --- connecting ----------------------------------------------------------------------------------------------


def begin_connect(tenant: Tenant, user: User, side: Side) -> str:
    """The consent URL to send the user to; the ``state`` it carries is kept in the user's session."""
    state = secrets.token_urlsafe(32)
    session[STATE_SESSION_KEY] = {"state": state, "side": side.value, "tenant_id": tenant.id, "user_id": user.id,
                                  "started": time.time()}
    provider = providers().zoho if side is Side.ZOHO else providers().xero
    return provider.authorization_url(redirect_uri(side), state)


def _check_state(tenant: Tenant, user: User, side: Side, state: str | None) -> None:
    expected = session.pop(STATE_SESSION_KEY, None)
    valid = (
        isinstance(expected, dict) and state is not None
        and secrets.compare_digest(str(expected.get("state", "")), state)
        and expected.get("side") == side.value and expected.get("tenant_id") == tenant.id
        and expected.get("user_id") == user.id
        and time.time() - float(expected.get("started", 0)) < STATE_LIFETIME_SECONDS
    )
    if not valid:
        raise ConnectError(_("The connection could not be completed because the request did not come from this "
                             "page or took too long. Please connect again."))


def _denied(args: dict[str, str], side_name: str) -> None:
    error = args.get("error")
    if error:
        if error == "access_denied":
            raise ConnectError(_("You declined the access request in %(side)s, so nothing was connected.",
                                 side=side_name))
        raise ConnectError(_("%(side)s refused the connection (%(error)s). Please try again.",
                             side=side_name, error=args.get("error_description") or error))


def complete_zoho(tenant: Tenant, user: User, args: dict[str, str]) -> Connection:
    _check_state(tenant, user, Side.ZOHO, args.get("state"))
    _denied(args, "Zoho CRM")
    code, accounts_server = args.get("code"), args.get("accounts-server")
    if not code or not accounts_server:
        raise ConnectError(_("Zoho CRM's answer was incomplete. Please connect again."))
    oauth = providers().zoho
    try:
        granted = oauth.exchange_code(code, redirect_uri(Side.ZOHO), accounts_server)
        org = ZohoClient(granted.api_domain, StaticToken(granted.grant.access_token)).org()
    except AuthRevoked as error:
        raise ConnectError(_("The authorisation code has expired or was already used. Please connect again.")) \
            from error
    except ConnectorError as error:
        raise ConnectError(_("Zoho CRM could not be connected: %(reason)s", reason=error.message)) from error
    connection = connection_for(tenant, Side.ZOHO)
    org_id = str(org.get("id") or org.get("zgid") or "")
    if connection.remote_org_id and connection.remote_org_id != org_id:
        connection.generation += 1
    connection.zoho_location = args.get("location")
    connection.zoho_accounts_server = oauth.trusted_accounts_server(accounts_server)
    connection.zoho_api_domain = granted.api_domain
    connection.remote_org_id = org_id
    connection.remote_org_name = str(org.get("company_name") or "")
    _mark_connected(connection, user, granted.grant)
    db.session.commit()
    return connection


def complete_xero(tenant: Tenant, user: User, args: dict[str, str]) -> Connection:
    _check_state(tenant, user, Side.XERO, args.get("state"))
    _denied(args, "Xero")
    code = args.get("code")
    if not code:
        raise ConnectError(_("Xero's answer was incomplete. Please connect again."))
    oauth = providers().xero
    try:
        granted = oauth.exchange_code(code, redirect_uri(Side.XERO))
        # Only the organisations this consent connected, not every one the user connected before.
        organisations = oauth.connections(granted.grant.access_token,
                                          _jwt_claim(granted.grant.access_token, "authentication_event_id"))
    except AuthRevoked as error:
        raise ConnectError(_("The authorisation code has expired or was already used. Please connect again.")) \
            from error
    except ConnectorError as error:
        raise ConnectError(_("Xero could not be connected: %(reason)s", reason=error.message)) from error
    if not organisations:
        raise ConnectError(_("No Xero organisation was chosen on Xero's consent page. Please connect again and "
                             "select an organisation."))
    connection = connection_for(tenant, Side.XERO)
    store_grant(connection, granted.grant, token_cipher(), utcnow())
    connection.connected_by_id = user.id
    if len(organisations) == 1:
        _finish_xero(connection, organisations[0])
    else:
        connection.status = ConnectionStatus.CHOOSING
        connection.pending_organisations = [
            {"tenantId": o["tenantId"], "tenantName": o.get("tenantName", ""), "id": o["id"]} for o in organisations
        ]
    db.session.commit()
    return connection


def choose_xero_organisation(tenant: Tenant, user: User, xero_tenant_id: str) -> Connection:
    connection = connection_for(tenant, Side.XERO)
    choices = connection.pending_organisations or []
    chosen = next((o for o in choices if o["tenantId"] == xero_tenant_id), None)
    if connection.status != ConnectionStatus.CHOOSING.value or chosen is None:
        raise ConnectError(_("That organisation is not one of those you authorised. Please connect again."))
    # Organisations authorised but not chosen would count against the app's connection limits: release them.
    access_token = token_cipher().decrypt(connection.access_token_encrypted or "")
    for other in choices:
        if other is not chosen:
            try:
                providers().xero.disconnect(access_token, other["id"])
            except ConnectorError:
                log.warning("could not release the unchosen Xero connection %s", other["id"])
    _finish_xero(connection, chosen)
    db.session.commit()
    return connection


def _finish_xero(connection: Connection, organisation: dict[str, Any]) -> None:
    if connection.remote_org_id and connection.remote_org_id != organisation["tenantId"]:
        connection.generation += 1
    connection.remote_org_id = organisation["tenantId"]
    connection.remote_org_name = organisation.get("tenantName") or ""
    connection.xero_connection_id = organisation["id"]
    connection.pending_organisations = None
    connection.status = ConnectionStatus.CONNECTED
    connection.connected_at = utcnow()
    connection.last_error = None
    connection.last_error_at = None


def _mark_connected(connection: Connection, user: User, grant: TokenGrant) -> None:
    store_grant(connection, grant, token_cipher(), utcnow())
    connection.status = ConnectionStatus.CONNECTED
    connection.connected_at = utcnow()
    connection.connected_by_id = user.id
    connection.last_error = None
    connection.last_error_at = None


# --- disconnecting -------------------------------------------------------------------------------------------


def disconnect(tenant: Tenant, side: Side) -> Connection:
    """Tell the remote side (Xero: remove the connection and revoke; Zoho: revoke), then forget the tokens.

    The local state is cleared even when the remote side cannot be reached: the user asked to stop, and a
    token we no longer hold cannot be misused by us."""
    connection = connection_for(tenant, side)
    cipher = token_cipher()
    refresh_token = cipher.decrypt(connection.refresh_token_encrypted) if connection.refresh_token_encrypted else None
    try:
        if side is Side.XERO and connection.access_token_encrypted and connection.xero_connection_id:
            tokens = tokens_for(connection)
            providers().xero.disconnect(tokens.access_token(), connection.xero_connection_id)
        if refresh_token:
            if side is Side.XERO:
                providers().xero.revoke(refresh_token)
            elif connection.zoho_accounts_server:
                providers().zoho.revoke(refresh_token, connection.zoho_accounts_server)
    except (ConnectorError, Invalid) as error:
        log.warning("could not tell %s about the disconnection: %s", side.value, error)
    connection.access_token_encrypted = None
    connection.refresh_token_encrypted = None
    connection.access_token_expires_at = None
    connection.pending_organisations = None
    connection.xero_connection_id = None
    connection.status = ConnectionStatus.DISCONNECTED
    db.session.commit()
    return connection


def reset_xero(tenant: Tenant) -> Connection:
    """Disconnect Xero so that another organisation can be connected. Work tied to the old organisation is
    fenced off: links and audit rows carry the organisation id, and the generation bump makes queued jobs of
    the old connection stop before they write anything."""
    connection = disconnect(tenant, Side.XERO)
    connection.generation += 1
    connection.remote_org_id = None
    db.session.commit()
    return connection


XERO_DAILY_LIMITS = (5000, 1000)  # Core and above; Starter since March 2026 (FACTS.md §2)


def set_daily_call_limit(tenant: Tenant, limit: int) -> Connection:
    if limit not in XERO_DAILY_LIMITS:
        raise ValueError(f"Xero's daily limit is one of {XERO_DAILY_LIMITS}")
    connection = connection_for(tenant, Side.XERO)
    connection.daily_call_limit = limit
    db.session.commit()
    return connection


# --- connectors for jobs -------------------------------------------------------------------------------------


class StaticToken(TokenSource):
    """A token that cannot be refreshed (right after the code exchange, before anything is stored)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refresh_after_rejection(self, rejected_token: str) -> str:
        raise AuthRevoked("the freshly granted token was refused")


def tokens_for(connection: Connection) -> ConnectionTokens:
    oauth = providers()

    def refresh(connection: Connection, refresh_token: str) -> TokenGrant:
        if connection.side == Side.XERO.value:
            return oauth.xero.refresh(refresh_token)
        return oauth.zoho.refresh(refresh_token, connection.zoho_accounts_server or "")

    return ConnectionTokens(connection.id, session_factory=lambda: Session(db.engine), redis=redis_connection(),
                            cipher=token_cipher(), refresher=refresh)


def xero_client(connection: Connection) -> XeroClient:
    if not connection.is_connected or not connection.remote_org_id:
        raise AuthRevoked("Xero is not connected")
    oauth = providers()
    pacer = Pacer(redis_connection(), "xero", connection.remote_org_id,
                  Limits(concurrent=XERO_CONCURRENT, per_minute=XERO_PER_MINUTE, per_day=connection.daily_call_limit,
                         app_per_minute=XERO_APP_PER_MINUTE), time_scale=oauth.time_scale)
    return XeroClient(oauth.xero.endpoints.api, connection.remote_org_id, tokens_for(connection), pacer=pacer,
                      counter=RedisCallCounter(redis_connection(), connection.tenant_id))


def zoho_client(connection: Connection) -> ZohoClient:
    if not connection.is_connected or not connection.zoho_api_domain:
        raise AuthRevoked("Zoho CRM is not connected")
    oauth = providers()
    pacer = Pacer(redis_connection(), "zoho", connection.remote_org_id or str(connection.tenant_id),
                  Limits(concurrent=ZOHO_CONCURRENT), time_scale=oauth.time_scale)
    return ZohoClient(connection.zoho_api_domain, tokens_for(connection), pacer=pacer,
                      counter=RedisCallCounter(redis_connection(), connection.tenant_id))


def record_call_outcome(connection_id: int, error: str | None) -> None:
    """What the Connections card shows: the last successful call and the last error."""
    connection = db.session.get(Connection, connection_id)
    if connection is None:
        return
    if error is None:
        connection.last_success_at = utcnow()
    else:
        connection.last_error = error
        connection.last_error_at = utcnow()
    db.session.commit()


def _jwt_claim(token: str, claim: str) -> str | None:
    """Read a claim of Xero's access-token JWT without verifying it: it only narrows /connections to this consent,
    and Xero verifies the token itself on that call."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    value = data.get(claim)
    return str(value) if value else None
