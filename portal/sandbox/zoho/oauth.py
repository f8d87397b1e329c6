"""Zoho Accounts: the consent page, grant codes, access and refresh tokens with Zoho's limits and errors.

Zoho (FACTS.md §1): codes live ~2 minutes and are single-use; refresh tokens come only with
``access_type=offline`` and a consent the user saw, never rotate and never expire; access tokens last an hour;
at most 10 access tokens per refresh token per 10 minutes ("Access Denied", with HTTP 200), 15 active per
refresh token, 20 refresh tokens per user and client; errors come as ``{"error": ...}``, usually with HTTP 200.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.store import Store
from portal.sandbox.zoho.errors import ZohoError, authentication_failure, invalid_token
from portal.sandbox.zoho.state import Org, Orgs, load_settings

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the documented sandbox client
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class AccountsError(Exception):
    """An Accounts-server error body; Zoho answers most of them with HTTP 200."""

    def __init__(self, error: str, http_status: int = 200, **extra: str) -> None:
        super().__init__(error)
        self.body: dict[str, str] = {"error": error, **extra}
        self.status = http_status


@dataclass(frozen=True)
class Grant:
    org_id: str
    user_id: str
    scopes: tuple[str, ...]
    token: str
    dc: str


def new_token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def is_local_redirect(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOCAL_HOSTS


def parse_scopes(scope: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in scope.replace(" ", ",").split(",") if part.strip())


class Tokens:
    def __init__(self, store: Store, orgs: Orgs, clock: SandboxClock) -> None:
        self.store = store
        self.orgs = orgs
        self.clock = clock

    def settings(self) -> dict[str, float]:
        return load_settings(self.store)

    # --- codes -----------------------------------------------------------------------------------------------

    def issue_code(self, org: Org, user_id: str, redirect_uri: str, scope: str, access_type: str,
                   consent_shown: bool = True) -> str:
        now = self.clock.now()
        recent = self.store.query_one(
            "SELECT COUNT(*) AS n FROM zoho_grant WHERE client_id = ? AND created_at > ?", (CLIENT_ID, now - 600))
        if recent and recent["n"] >= self.settings()["codes_per_10_minutes"]:
            raise AccountsError("access_denied")
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        # A refresh token needs access_type=offline AND a consent screen the user actually saw.
        effective_access = access_type if consent_shown else "online"
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT INTO zoho_grant (code, client_id, org_id, user_id, dc, redirect_uri, scope, access_type, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (code, CLIENT_ID, org.id, user_id, org.dc, redirect_uri, scope, effective_access, now))
        return code

    def previous_consent(self, user_email: str) -> Org | None:
        """The org this user last granted the client, if a refresh token of theirs is still alive."""
        for org in self.orgs.all():
            user = next((u for u in org.users if u["email"] == user_email), None)
            if user is None:
                continue
            row = self.store.query_one(
                "SELECT 1 FROM zoho_token WHERE kind = 'refresh' AND user_id = ? AND client_id = ? AND revoked = 0",
                (user["id"], CLIENT_ID))
            if row is not None:
                return org
        return None

    # --- the token endpoint ----------------------------------------------------------------------------------

    def token_endpoint(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise AccountsError("unsupported_grant_type")
        if form.get("client_id") != CLIENT_ID:
            raise AccountsError("invalid_client")
        if form.get("client_secret") != CLIENT_SECRET:
            raise AccountsError("invalid_client_secret")
        if grant_type == "authorization_code":
            return self._exchange(form)
        return self._refresh(form)

    def _exchange(self, form: dict[str, str]) -> dict[str, Any]:
        now = self.clock.now()
        settings = self.settings()
        with self.store.transaction() as connection:
            grant = connection.execute("SELECT * FROM zoho_grant WHERE code = ?", (form.get("code", ""),)).fetchone()
            if grant is None or grant["used"] or now - grant["created_at"] > settings["grant_code_seconds"]:
                raise AccountsError("invalid_code")
            if form.get("redirect_uri", "") != grant["redirect_uri"]:
                raise AccountsError("invalid_redirect_uri")
            connection.execute("UPDATE zoho_grant SET used = 1 WHERE code = ?", (grant["code"],))
            refresh_token = None
            if grant["access_type"] == "offline":
                refresh_token = new_token()
                connection.execute(
                    "INSERT INTO zoho_token (token, kind, parent, client_id, org_id, user_id, dc, scope, created_at) "
                    "VALUES (?, 'refresh', NULL, ?, ?, ?, ?, ?, ?)",
                    (refresh_token, CLIENT_ID, grant["org_id"], grant["user_id"], grant["dc"], grant["scope"], now))
                self._limit_refresh_tokens(connection, grant["user_id"], settings)
            access_token = self._mint(connection, refresh_token, grant["org_id"], grant["user_id"], grant["dc"],
                                      grant["scope"], now, settings)
        body: dict[str, Any] = {"access_token": access_token}
        if refresh_token:
            body["refresh_token"] = refresh_token
        body.update(self._token_tail(grant["scope"], settings))
        return body

    def _refresh(self, form: dict[str, str]) -> dict[str, Any]:
        now = self.clock.now()
        settings = self.settings()
        with self.store.transaction() as connection:
            parent = connection.execute(
                "SELECT * FROM zoho_token WHERE token = ? AND kind = 'refresh'",
                (form.get("refresh_token", ""),)).fetchone()
            # Zoho: a revoked or unknown refresh token gives invalid_code (FACTS.md §1).
            if parent is None or parent["revoked"]:
                raise AccountsError("invalid_code")
            org = self.orgs.get(parent["org_id"])
            if org is None or org.dc != parent["dc"]:
                raise AccountsError("invalid_client")
            recent = connection.execute(
                "SELECT COUNT(*) FROM zoho_token WHERE parent = ? AND created_at > ?",
                (parent["token"], now - 600)).fetchone()[0]
            if recent >= settings["access_tokens_per_refresh_per_10_minutes"]:
                raise AccountsError(
                    "Access Denied", error_description="You have made too many requests continuously. "
                    "Please try again after some time.", status="failure")
            access_token = self._mint(connection, parent["token"], parent["org_id"], parent["user_id"],
                                      parent["dc"], parent["scope"], now, settings)
        # Zoho: refresh tokens do not rotate; the answer carries no refresh_token (FACTS.md §1).
        return {"access_token": access_token, **self._token_tail(parent["scope"], settings)}

    def _token_tail(self, scope: str, settings: dict[str, float]) -> dict[str, Any]:
        from flask import request

        return {"scope": scope, "api_domain": f"{request.host_url.rstrip('/')}/zoho", "token_type": "Bearer",
                "expires_in": int(settings["access_token_seconds"])}

    def _mint(self, connection: Any, parent: str | None, org_id: str, user_id: str, dc: str, scope: str,
              now: float, settings: dict[str, float]) -> str:
        token = new_token()
        connection.execute(
            "INSERT INTO zoho_token (token, kind, parent, client_id, org_id, user_id, dc, scope, created_at, "
            "expires_at) VALUES (?, 'access', ?, ?, ?, ?, ?, ?, ?, ?)",
            (token, parent, CLIENT_ID, org_id, user_id, dc, scope, now, now + settings["access_token_seconds"]))
        if parent is not None:
            # Zoho: at most 15 active access tokens per refresh token; the 16th invalidates the oldest.
            active = connection.execute(
                "SELECT token FROM zoho_token WHERE parent = ? AND revoked = 0 AND expires_at > ? "
                "ORDER BY created_at DESC, rowid DESC", (parent, now)).fetchall()
            for row in active[int(settings["active_access_tokens_per_refresh"]):]:
                connection.execute("UPDATE zoho_token SET revoked = 1 WHERE token = ?", (row["token"],))
        return token

    def _limit_refresh_tokens(self, connection: Any, user_id: str, settings: dict[str, float]) -> None:
        # Zoho: at most 20 refresh tokens per user and client; the 21st silently invalidates the oldest,
        # with its access tokens (FACTS.md §1, §8.2).
        rows = connection.execute(
            "SELECT token FROM zoho_token WHERE kind = 'refresh' AND user_id = ? AND client_id = ? AND revoked = 0 "
            "ORDER BY created_at DESC, rowid DESC", (user_id, CLIENT_ID)).fetchall()
        for row in rows[int(settings["refresh_tokens_per_user"]):]:
            self._revoke(connection, row["token"])

    # --- revoke ----------------------------------------------------------------------------------------------

    def revoke(self, token: str) -> bool:
        with self.store.transaction() as connection:
            row = connection.execute("SELECT revoked FROM zoho_token WHERE token = ?", (token,)).fetchone()
            if row is None or row["revoked"]:
                return False
            self._revoke(connection, token)
        return True

    def _revoke(self, connection: Any, token: str) -> None:
        connection.execute("UPDATE zoho_token SET revoked = 1 WHERE token = ? OR parent = ?", (token, token))

    def expire(self, token: str | None = None, org_id: str | None = None) -> int:
        """Control API: make access tokens expire now (a token, or every token of an org)."""
        now = self.clock.now()
        with self.store.transaction() as connection:
            if token:
                cursor = connection.execute(
                    "UPDATE zoho_token SET expires_at = ? WHERE kind = 'access' AND (token = ? OR parent = ?)",
                    (now, token, token))
            else:
                cursor = connection.execute(
                    "UPDATE zoho_token SET expires_at = ? WHERE kind = 'access' AND (? IS NULL OR org_id = ?)",
                    (now, org_id, org_id))
        return int(cursor.rowcount)

    def revoke_matching(self, token: str | None = None, org_id: str | None = None) -> int:
        with self.store.transaction() as connection:
            if token:
                cursor = connection.execute(
                    "UPDATE zoho_token SET revoked = 1 WHERE token = ? OR parent = ?", (token, token))
            else:
                cursor = connection.execute(
                    "UPDATE zoho_token SET revoked = 1 WHERE ? IS NULL OR org_id = ?", (org_id, org_id))
        return int(cursor.rowcount)

    def describe(self, org_id: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT token, kind, parent, org_id, user_id, dc, scope, created_at, expires_at, revoked FROM zoho_token "
            "WHERE ? IS NULL OR org_id = ? ORDER BY created_at, rowid", (org_id, org_id))
        now = self.clock.now()
        return [{**dict(row), "active": not row["revoked"] and (row["expires_at"] is None or row["expires_at"] > now)}
                for row in rows]

    # --- API calls -------------------------------------------------------------------------------------------

    def authenticate(self, header: str | None) -> Grant:
        """Zoho: ``Authorization: Zoho-oauthtoken <token>``; a missing or malformed header is
        AUTHENTICATION_FAILURE, an expired or revoked token INVALID_TOKEN (FACTS.md §3)."""
        if not header or not header.startswith("Zoho-oauthtoken "):
            raise authentication_failure()
        token = header[len("Zoho-oauthtoken "):].strip()
        row = self.store.query_one(
            "SELECT org_id, user_id, dc, scope, expires_at, revoked FROM zoho_token "
            "WHERE token = ? AND kind = 'access'", (token,))
        if row is None or row["revoked"] or row["expires_at"] <= self.clock.now():
            raise invalid_token()
        org = self.orgs.get(row["org_id"])
        # The org moved to another data centre since the token was issued: the token belongs to the old DC.
        if org is None or org.dc != row["dc"]:
            raise invalid_token()
        return Grant(row["org_id"], row["user_id"], parse_scopes(row["scope"]), token, row["dc"])


def consent_redirect(redirect_uri: str, params: dict[str, str]) -> str:
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(params)}"


def require_scope(scopes: tuple[str, ...], group: str, resource: str | None, operation: str,
                  custom_module: bool = False) -> None:
    """Zoho scopes: ``ZohoCRM.<group>[.<resource>].<ALL|READ|CREATE|UPDATE|WRITE|DELETE>``, case-insensitive;
    a missing one is OAUTH_SCOPE_MISMATCH (FACTS.md §1)."""
    for scope in scopes:
        parts = scope.lower().split(".")
        if len(parts) < 3 or parts[0] != "zohocrm" or parts[1] != group:
            continue
        granted_resource = parts[2] if len(parts) > 3 else None
        granted_operation = parts[-1]
        if granted_resource is not None and granted_resource != (resource or "").lower() \
                and not (granted_resource == "custom" and custom_module):
            continue
        if _covers(granted_operation, operation.lower()):
            return
    name = f"ZohoCRM.{group}.{resource + '.' if resource else ''}{operation.upper()}"
    raise ZohoError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL", {"required_scope": name})


def _covers(granted: str, needed: str) -> bool:
    if granted in ("all", needed):
        return True
    return granted == "write" and needed in ("create", "update", "delete")
