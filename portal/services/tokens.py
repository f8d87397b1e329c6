"""Access tokens for connectors, refreshed in exactly one place, one refresh at a time per connection.

Xero refresh tokens are single-use and rotate (FACTS.md §1): two workers refreshing at once would burn each
other's token and lose the connection. So a refresh takes a Redis lock shared by every process, then re-reads the
row (under a row lock on PostgreSQL) and refreshes only if nobody else already did. Zoho's refresh tokens do not
rotate, but Zoho throttles refreshes (10 per 10 minutes): the same function makes workers reuse a fresh token
instead of each refreshing their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.connectors.base import TokenGrant
from portal.connectors.errors import AuthRevoked, ConnectorError
from portal.models import Connection, ConnectionStatus, utcnow
from portal.services.crypto import TokenCipher

log = logging.getLogger(__name__)

# Refresh this long before expiry, so that a call never starts with a token about to lapse mid-flight.
REFRESH_AHEAD = timedelta(minutes=5)
LOCK_TIMEOUT_SECONDS = 60
LOCK_WAIT_SECONDS = 45


class Refresher(Protocol):
    """Exchanges a refresh token at the connection's token endpoint. Raises AuthRevoked when the grant is gone."""

    def __call__(self, connection: Connection, refresh_token: str, /) -> TokenGrant: ...


def store_grant(connection: Connection, grant: TokenGrant, cipher: TokenCipher, now: datetime) -> None:
    connection.access_token_encrypted = cipher.encrypt(grant.access_token)
    if grant.refresh_token:
        connection.refresh_token_encrypted = cipher.encrypt(grant.refresh_token)
    connection.access_token_expires_at = now + timedelta(seconds=grant.expires_in)
    if grant.scope:
        connection.scopes = grant.scope
    connection.refreshed_at = now


class ConnectionTokens:
    """A connector's :class:`portal.connectors.base.TokenSource` for one connection."""

    def __init__(self, connection_id: int, *, session_factory: Callable[[], Session], redis: Redis,
                 cipher: TokenCipher, refresher: Refresher, clock: Callable[[], datetime] = utcnow) -> None:
        self.connection_id = connection_id
        self.session_factory = session_factory
        self.redis = redis
        self.cipher = cipher
        self.refresher = refresher
        self.clock = clock
        self._cached: tuple[str, datetime] | None = None

    def access_token(self) -> str:
        if self._cached and self._cached[1] - REFRESH_AHEAD > self.clock():
            return self._cached[0]
        return self._fresh(rejected=None)

    def refresh_after_rejection(self, rejected_token: str) -> str:
        return self._fresh(rejected=rejected_token)

    def _fresh(self, rejected: str | None) -> str:
        lock = self.redis.lock(f"portal:lock:refresh:{self.connection_id}", timeout=LOCK_TIMEOUT_SECONDS,
                               blocking_timeout=LOCK_WAIT_SECONDS)
        if not lock.acquire():
            raise ConnectorError("another worker is still refreshing this connection's token")
        try:
            with self.session_factory() as session:
                connection = session.scalar(
                    select(Connection).where(Connection.id == self.connection_id).with_for_update()
                )
                if connection is None or connection.status != ConnectionStatus.CONNECTED.value:
                    raise AuthRevoked("the connection is not connected")
                token = self._current(connection)
                if token is not None and self._reusable(token, connection, rejected):
                    self._cache(token, connection)
                    return token
                token = self._refresh(session, connection)
                self._cache(token, connection)
                return token
        finally:
            try:
                lock.release()
            except Exception:  # the lock expired while we worked; nothing to release
                log.warning("refresh lock for connection %s expired before release", self.connection_id)

    def _reusable(self, token: str, connection: Connection, rejected: str | None) -> bool:
        if rejected is not None:
            # Our call was refused with ``rejected``; a different stored token means another worker already
            # refreshed: use theirs instead of burning another refresh.
            return token != rejected
        expires = connection.access_token_expires_at
        return expires is not None and expires - REFRESH_AHEAD > self.clock()

    def _current(self, connection: Connection) -> str | None:
        if not connection.access_token_encrypted:
            return None
        return self.cipher.decrypt(connection.access_token_encrypted)

    def _cache(self, token: str, connection: Connection) -> None:
        expires = connection.access_token_expires_at or self.clock()
        self._cached = (token, expires)

    def _refresh(self, session: Session, connection: Connection) -> str:
        if not connection.refresh_token_encrypted:
            raise AuthRevoked("no refresh token is stored for this connection")
        refresh_token = self.cipher.decrypt(connection.refresh_token_encrypted)
        now = self.clock()
        try:
            grant = self.refresher(connection, refresh_token)
        except AuthRevoked as error:
            connection.status = ConnectionStatus.NEEDS_RECONNECT
            connection.last_error = error.message
            connection.last_error_at = now
            session.commit()
            raise
        store_grant(connection, grant, self.cipher, now)
        session.commit()
        log.info("refreshed the %s token of connection %s", connection.side, connection.id)
        return grant.access_token
