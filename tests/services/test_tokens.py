"""Tokens: encrypted at rest, refreshed once however many workers ask at the same time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.connectors.base import TokenGrant
from portal.connectors.errors import AuthRevoked
from portal.extensions import db
from portal.models import Connection, ConnectionStatus, utcnow
from portal.services.crypto import TokenCipher, token_cipher
from portal.services.tokens import ConnectionTokens, store_grant


class RotatingRefresher:
    """Behaves like Xero: each refresh token works once and is replaced by a new one."""

    def __init__(self) -> None:
        self.valid = {"refresh-0"}
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, connection, refresh_token):
        with self.lock:
            self.calls += 1
            if refresh_token not in self.valid:
                raise AuthRevoked("invalid_grant")
            self.valid.discard(refresh_token)
            new = f"refresh-{self.calls}"
            self.valid.add(new)
        threading.Event().wait(0.05)  # a slow token endpoint widens the race window
        return TokenGrant(access_token=f"access-{self.calls}", expires_in=1800, refresh_token=new)


@pytest.fixture
def connection(acme):
    cipher = token_cipher()
    row = Connection(tenant_id=acme.id, side="xero", status=ConnectionStatus.CONNECTED.value)
    store_grant(row, TokenGrant("access-0", 1800, "refresh-0"), cipher, utcnow() - timedelta(hours=1))
    db.session.add(row)
    db.session.commit()
    return row


def tokens_for(connection_id, refresher, redis_url):
    return ConnectionTokens(connection_id, session_factory=lambda: Session(db.engine), redis=Redis.from_url(redis_url),
                            cipher=token_cipher(), refresher=refresher)


def test_the_database_never_holds_a_plain_token(connection):
    raw = db.session.execute(text("SELECT access_token_encrypted, refresh_token_encrypted FROM connection")).one()
    assert "access-0" not in raw[0] and "refresh-0" not in raw[1]
    assert token_cipher().decrypt(raw[1]) == "refresh-0"


def test_key_rotation_keeps_old_ciphertexts_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ciphertext = TokenCipher([old]).encrypt("secret")
    rotated_cipher = TokenCipher([new, old])
    assert rotated_cipher.decrypt(ciphertext) == "secret"
    rotated = rotated_cipher.rotate(ciphertext)
    assert TokenCipher([new]).decrypt(rotated) == "secret"
    with pytest.raises(ValueError):
        TokenCipher([new]).decrypt(ciphertext)


def test_concurrent_workers_refresh_once_and_share_the_new_token(app, connection, redis_url):
    refresher = RotatingRefresher()
    results: list[str] = []
    errors: list[Exception] = []

    connection_id = connection.id  # read once: the test's session must not be touched from other threads

    def worker() -> None:
        with app.app_context():
            try:
                results.append(tokens_for(connection_id, refresher, redis_url).access_token())
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert refresher.calls == 1
    assert results == ["access-1"] * 6


def test_a_rejected_token_is_refreshed_once_even_when_two_workers_saw_it_fail(app, connection, redis_url):
    refresher = RotatingRefresher()
    first, second = tokens_for(connection.id, refresher, redis_url), tokens_for(connection.id, refresher, redis_url)
    fresh = first.access_token()  # expired at the start: refreshes to access-1
    assert first.refresh_after_rejection(fresh) == "access-2"
    # The second worker also saw access-1 refused; someone already refreshed, so it reuses access-2.
    assert second.refresh_after_rejection(fresh) == "access-2"
    assert refresher.calls == 2


def test_a_revoked_grant_marks_the_connection_for_reconnect(app, connection, redis_url):
    refresher = RotatingRefresher()
    refresher.valid.clear()
    with pytest.raises(AuthRevoked):
        tokens_for(connection.id, refresher, redis_url).access_token()
    db.session.refresh(connection)
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT.value
    assert connection.last_error == "invalid_grant"
