"""Xero identity: authorisation codes, access and refresh tokens, and connections (FACTS.md §1).

- One pre-registered confidential client (``sandbox-client`` / ``sandbox-secret``) and one signed-in demo user.
- Codes are single-use, last 5 minutes and are bound to their redirect URI (and PKCE challenge, if any).
- Access tokens are JWTs that last 30 minutes and carry ``authentication_event_id``, ``xero_userid`` and ``scope``.
- Refresh tokens (only with ``offline_access``) are single-use and rotate: each refresh returns a new one; the
  previous one keeps working for a 30-minute grace period after its first use; one left unused for 60 days
  expires. Every lifetime runs on the sandbox clock.
- Revocation removes every connection the user gave the app and invalidates its tokens.
- A connection links (client, user, tenant); one access token reaches every tenant the user connected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.store import Store
from portal.sandbox.xero.dates import connection_date
from portal.sandbox.xero.demo import DEMO_USER
from portal.sandbox.xero.errors import unauthorized
from portal.sandbox.xero.scopes import KNOWN_SCOPES, parse_scope

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the documented sandbox credential
APP_NAME = "Zoxero Sandbox App"
ACCESS_TOKEN_SECONDS = 30 * 60
REFRESH_GRACE_SECONDS = 30 * 60
REFRESH_UNUSED_SECONDS = 60 * 86_400
CODE_SECONDS = 5 * 60
ISSUER = "https://identity.xero.com"
SIGNING_KEY = b"xero-sandbox-token-signing-key"


class OAuthError(Exception):
    """An error of the token or revocation endpoint: 400 ``{"error": ...}`` (FACTS.md §1)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AccessGrant:
    """Who an API call acts for: the decoded, checked access token."""

    jti: str
    auth_event_id: str
    client_id: str
    user_id: str
    scopes: frozenset[str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "HS256", "kid": "sandbox", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def decode_jwt(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = _b64(hmac.new(SIGNING_KEY, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims


def client_matches(client_id: str | None, client_secret: str | None) -> bool:
    return client_id == CLIENT_ID and client_secret is not None and \
        hmac.compare_digest(client_secret.encode(), CLIENT_SECRET.encode())


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if scope not in KNOWN_SCOPES]


class Identity:
    def __init__(self, store: Store, clock: SandboxClock) -> None:
        self.store = store
        self.clock = clock

    # --- consent and codes -------------------------------------------------------------------------------------

    def consent(self, client_id: str, redirect_uri: str, scopes: list[str], tenant_ids: list[str],
                code_challenge: str | None, code_challenge_method: str | None, nonce: str | None) -> str:
        """The user allowed the app: connect the chosen tenants and issue a code."""
        now = self.clock.now()
        auth_event_id = str(uuid.uuid4())
        code = secrets.token_hex(32)
        user_id = DEMO_USER["id"]
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO xero_grant (auth_event_id, client_id, user_id, scope, created_at) "
                         "VALUES (?, ?, ?, ?, ?)", (auth_event_id, client_id, user_id, " ".join(scopes), now))
            for tenant_id in tenant_ids:
                self._connect(conn, client_id, user_id, tenant_id, auth_event_id, now)
            conn.execute(
                "INSERT INTO xero_auth_code (code, client_id, redirect_uri, user_id, scope, auth_event_id, "
                "code_challenge, code_challenge_method, nonce, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (code, client_id, redirect_uri, user_id, " ".join(scopes), auth_event_id, code_challenge,
                 code_challenge_method, nonce, now + CODE_SECONDS))
        return code

    def _connect(self, conn: sqlite3.Connection, client_id: str, user_id: str, tenant_id: str,
                 auth_event_id: str, now: float) -> None:
        existing = conn.execute("SELECT id FROM xero_connection WHERE client_id = ? AND user_id = ? AND "
                                "tenant_id = ?", (client_id, user_id, tenant_id)).fetchone()
        if existing is None:
            conn.execute("INSERT INTO xero_connection (id, client_id, user_id, tenant_id, auth_event_id, created_at, "
                         "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (str(uuid.uuid4()), client_id, user_id, tenant_id, auth_event_id, now, now))
        else:
            # Xero: reconnecting keeps the connection; updatedDateUtc then differs from createdDateUtc.
            conn.execute("UPDATE xero_connection SET auth_event_id = ?, updated_at = ?, active = 1 WHERE id = ?",
                         (auth_event_id, now, existing["id"]))

    def exchange_code(self, client_id: str, code: str, redirect_uri: str | None,
                      code_verifier: str | None) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM xero_auth_code WHERE code = ?", (code,)).fetchone()
            if row is None or row["used"] or row["expires_at"] < now or row["client_id"] != client_id:
                raise OAuthError("invalid_grant")
            # Codes are single-use: even a failed exchange burns it (committed before answering).
            conn.execute("UPDATE xero_auth_code SET used = 1 WHERE code = ?", (code,))
            grant = conn.execute("SELECT * FROM xero_grant WHERE auth_event_id = ?",
                                 (row["auth_event_id"],)).fetchone()
            if not self._code_matches(row, redirect_uri, code_verifier) or grant is None or grant["revoked"]:
                return_error = True
            else:
                return_error = False
                token = self._issue(conn, grant, parse_scope(row["scope"]), now, nonce=row["nonce"])
        if return_error:
            raise OAuthError("invalid_grant")
        return token

    @staticmethod
    def _code_matches(row: sqlite3.Row, redirect_uri: str | None, code_verifier: str | None) -> bool:
        if redirect_uri != row["redirect_uri"]:
            return False
        if not row["code_challenge"]:
            return True
        if not code_verifier or not 43 <= len(code_verifier) <= 128:
            return False
        if row["code_challenge_method"] == "S256":
            computed = _b64(hashlib.sha256(code_verifier.encode()).digest())
        else:
            computed = code_verifier
        return hmac.compare_digest(computed, row["code_challenge"])

    # --- tokens ------------------------------------------------------------------------------------------------

    def _issue(self, conn: sqlite3.Connection, grant: sqlite3.Row, scopes: list[str], now: float,
               nonce: str | None = None) -> dict[str, Any]:
        jti = secrets.token_hex(16)
        user = DEMO_USER
        session = hashlib.sha256(grant["auth_event_id"].encode()).hexdigest()[:32]
        claims = {
            "nbf": int(now), "exp": int(now) + ACCESS_TOKEN_SECONDS, "iss": ISSUER,
            "aud": f"{ISSUER}/resources", "client_id": grant["client_id"], "sub": user["id"].replace("-", ""),
            "auth_time": int(grant["created_at"]), "xero_userid": user["id"], "global_session_id": session,
            "sid": session, "jti": jti, "authentication_event_id": grant["auth_event_id"], "scope": scopes,
            "amr": ["pwd"],
        }
        conn.execute("INSERT INTO xero_access_token (jti, auth_event_id, scope, issued_at, expires_at) "
                     "VALUES (?, ?, ?, ?, ?)", (jti, grant["auth_event_id"], " ".join(scopes), now,
                                                now + ACCESS_TOKEN_SECONDS))
        token: dict[str, Any] = {}
        if "openid" in scopes:
            id_claims: dict[str, Any] = {
                "nbf": int(now), "exp": int(now) + 300, "iss": ISSUER, "aud": grant["client_id"], "iat": int(now),
                "sid": session, "sub": claims["sub"], "auth_time": claims["auth_time"],
                "xero_userid": user["id"], "global_session_id": session,
            }
            if nonce:
                id_claims["nonce"] = nonce
            if "email" in scopes:
                id_claims.update({"preferred_username": user["email"], "email": user["email"]})
            if "profile" in scopes:
                id_claims.update({"given_name": user["given_name"], "family_name": user["family_name"],
                                  "name": f"{user['given_name']} {user['family_name']}"})
            token["id_token"] = _jwt(id_claims)
        token.update({"access_token": _jwt(claims), "expires_in": ACCESS_TOKEN_SECONDS, "token_type": "Bearer"})
        if "offline_access" in scopes:
            refresh = secrets.token_hex(32)
            conn.execute("INSERT INTO xero_refresh_token (token, auth_event_id, scope, issued_at, expires_at) "
                         "VALUES (?, ?, ?, ?, ?)", (refresh, grant["auth_event_id"], " ".join(scopes), now,
                                                    now + REFRESH_UNUSED_SECONDS))
            token["refresh_token"] = refresh
        token["scope"] = " ".join(scopes)
        return token

    def refresh(self, client_id: str, refresh_token: str, scope: str | None) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM xero_refresh_token WHERE token = ?", (refresh_token,)).fetchone()
            if row is None or row["revoked"]:
                raise OAuthError("invalid_grant")
            grant = conn.execute("SELECT * FROM xero_grant WHERE auth_event_id = ?",
                                 (row["auth_event_id"],)).fetchone()
            if grant is None or grant["revoked"] or grant["client_id"] != client_id:
                raise OAuthError("invalid_grant")
            if row["used_at"] is None:
                # Xero: a refresh token left unused for 60 days expires.
                if now > row["expires_at"]:
                    raise OAuthError("invalid_grant")
                conn.execute("UPDATE xero_refresh_token SET used_at = ? WHERE token = ?", (now, refresh_token))
            elif now > row["used_at"] + REFRESH_GRACE_SECONDS:
                # Xero: refresh tokens are single-use; the previous one lasts a 30-minute grace period
                # (FACTS.md §1), after which it is invalid_grant.
                raise OAuthError("invalid_grant")
            granted = parse_scope(row["scope"])
            requested = parse_scope(scope)
            if requested and not set(requested) <= set(granted):
                raise OAuthError("invalid_scope")
            return self._issue(conn, grant, requested or granted, now)

    def revoke(self, client_id: str, token: str) -> None:
        """Revoke a refresh token: the user's connections to the app go, and so do its tokens."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT auth_event_id FROM xero_refresh_token WHERE token = ?", (token,)).fetchone()
            if row is None:
                return  # RFC 7009: an unknown token is not an error
            grant = conn.execute("SELECT * FROM xero_grant WHERE auth_event_id = ?",
                                 (row["auth_event_id"],)).fetchone()
            if grant is None or grant["client_id"] != client_id:
                return
            self._revoke_user_app(conn, grant["client_id"], grant["user_id"])

    def _revoke_user_app(self, conn: sqlite3.Connection, client_id: str, user_id: str) -> None:
        grants = [row["auth_event_id"] for row in conn.execute(
            "SELECT auth_event_id FROM xero_grant WHERE client_id = ? AND user_id = ?", (client_id, user_id))]
        marks = ",".join("?" for _ in grants) or "''"
        conn.execute(f"UPDATE xero_grant SET revoked = 1 WHERE auth_event_id IN ({marks})", grants)  # noqa: S608
        conn.execute(f"UPDATE xero_refresh_token SET revoked = 1 WHERE auth_event_id IN ({marks})",  # noqa: S608
                     grants)
        conn.execute(f"UPDATE xero_access_token SET revoked = 1 WHERE auth_event_id IN ({marks})",  # noqa: S608
                     grants)
        conn.execute("UPDATE xero_connection SET active = 0, updated_at = ? WHERE client_id = ? AND user_id = ?",
                     (self.clock.now(), client_id, user_id))

    def authenticate(self, authorization: str | None) -> AccessGrant:
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthorized()
        claims = decode_jwt(authorization[len("Bearer "):].strip())
        if claims is None or not isinstance(claims.get("jti"), str):
            raise unauthorized()
        row = self.store.query_one(
            "SELECT t.*, g.client_id, g.user_id, g.revoked AS grant_revoked FROM xero_access_token t "
            "JOIN xero_grant g ON g.auth_event_id = t.auth_event_id WHERE t.jti = ?", (claims["jti"],))
        if row is None or row["revoked"] or row["grant_revoked"]:
            raise unauthorized()
        if self.clock.now() >= row["expires_at"]:
            expired = datetime.fromtimestamp(row["expires_at"], UTC).strftime("%m/%d/%Y %H:%M:%S")
            raise unauthorized(f"TokenExpired: token expired at {expired}",
                               'Bearer error="invalid_token", error_description="The token is expired"')
        return AccessGrant(jti=row["jti"], auth_event_id=row["auth_event_id"], client_id=row["client_id"],
                           user_id=row["user_id"], scopes=frozenset(parse_scope(row["scope"])))

    # --- connections -------------------------------------------------------------------------------------------

    def connected(self, grant: AccessGrant, tenant_id: str) -> bool:
        row = self.store.query_one("SELECT 1 FROM xero_connection WHERE client_id = ? AND user_id = ? AND "
                                   "tenant_id = ? AND active = 1", (grant.client_id, grant.user_id, tenant_id))
        return row is not None

    def connections(self, grant: AccessGrant, auth_event_id: str | None) -> list[dict[str, Any]]:
        sql = ("SELECT c.*, o.name FROM xero_connection c JOIN xero_org o ON o.id = c.tenant_id "
               "WHERE c.client_id = ? AND c.user_id = ? AND c.active = 1")
        params: list[Any] = [grant.client_id, grant.user_id]
        if auth_event_id:
            sql += " AND c.auth_event_id = ?"
            params.append(auth_event_id.lower())
        rows = self.store.query(sql + " ORDER BY c.created_at, o.position", params)
        return [{
            "id": row["id"], "authEventId": row["auth_event_id"], "tenantId": row["tenant_id"],
            "tenantType": "ORGANISATION", "tenantName": row["name"],
            "createdDateUtc": connection_date(int(row["created_at"] * 1000)),
            "updatedDateUtc": connection_date(int(row["updated_at"] * 1000)),
        } for row in rows]

    def delete_connection(self, grant: AccessGrant, connection_id: str) -> bool:
        with self.store.transaction() as conn:
            cursor = conn.execute("UPDATE xero_connection SET active = 0, updated_at = ? WHERE id = ? AND "
                                  "client_id = ? AND user_id = ? AND active = 1",
                                  (self.clock.now(), connection_id.lower(), grant.client_id, grant.user_id))
            return cursor.rowcount > 0

    # --- controls ----------------------------------------------------------------------------------------------

    def mint(self, scopes: list[str], tenant_ids: list[str]) -> dict[str, Any]:
        """A token for tests, benchmarks and the demo, as if the demo user had consented just now."""
        now = self.clock.now()
        auth_event_id = str(uuid.uuid4())
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO xero_grant (auth_event_id, client_id, user_id, scope, created_at) "
                         "VALUES (?, ?, ?, ?, ?)", (auth_event_id, CLIENT_ID, DEMO_USER["id"], " ".join(scopes),
                                                    now))
            for tenant_id in tenant_ids:
                self._connect(conn, CLIENT_ID, DEMO_USER["id"], tenant_id, auth_event_id, now)
            grant = conn.execute("SELECT * FROM xero_grant WHERE auth_event_id = ?", (auth_event_id,)).fetchone()
            return self._issue(conn, grant, scopes, now)

    def expire(self, token: str) -> str:
        """Make a token expire now: an access token answers TokenExpired, a refresh token invalid_grant."""
        now = self.clock.now()
        claims = decode_jwt(token)
        with self.store.transaction() as conn:
            if claims and claims.get("jti"):
                cursor = conn.execute("UPDATE xero_access_token SET expires_at = ? WHERE jti = ?",
                                      (now, claims["jti"]))
                kind = "access_token"
            else:
                # unused: past its 60 days; used: past its grace period
                cursor = conn.execute(
                    "UPDATE xero_refresh_token SET expires_at = ?, "
                    "used_at = CASE WHEN used_at IS NULL THEN NULL ELSE ? END WHERE token = ?",
                    (now - 1, now - 1 - REFRESH_GRACE_SECONDS, token))
                kind = "refresh_token"
            if cursor.rowcount == 0:
                raise ValueError("no such token")
        return kind

    def revoke_any(self, token: str) -> str:
        """Revoke one access token, or a refresh token the way the revocation endpoint does."""
        claims = decode_jwt(token)
        if claims and claims.get("jti"):
            with self.store.transaction() as conn:
                cursor = conn.execute("UPDATE xero_access_token SET revoked = 1 WHERE jti = ?", (claims["jti"],))
                if cursor.rowcount == 0:
                    raise ValueError("no such token")
            return "access_token"
        row = self.store.query_one("SELECT g.client_id FROM xero_refresh_token t JOIN xero_grant g "
                                   "ON g.auth_event_id = t.auth_event_id WHERE t.token = ?", (token,))
        if row is None:
            raise ValueError("no such token")
        self.revoke(row["client_id"], token)
        return "refresh_token"

    def disconnect_tenant(self, tenant_id: str) -> int:
        """The organisation disconnects the app from Xero's side: every connection to it goes."""
        with self.store.transaction() as conn:
            cursor = conn.execute("UPDATE xero_connection SET active = 0, updated_at = ? WHERE tenant_id = ? AND "
                                  "active = 1", (self.clock.now(), tenant_id))
            return cursor.rowcount

    def describe(self) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT c.id, c.tenant_id, c.auth_event_id, c.active, c.updated_at, o.name FROM xero_connection c "
            "JOIN xero_org o ON o.id = c.tenant_id ORDER BY c.updated_at DESC LIMIT 50")
        return [{"id": row["id"], "tenantId": row["tenant_id"], "tenantName": row["name"],
                 "authEventId": row["auth_event_id"], "active": bool(row["active"])} for row in rows]
