"""OAuth tokens encrypted at rest with Fernet; several keys (newest first) make key rotation possible."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class TokenCipher:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("TOKEN_ENCRYPTION_KEYS holds no key")
        self._fernet = MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as error:
            raise ValueError("a stored token cannot be decrypted with the configured keys") from error

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the newest key (the value it protects is unchanged)."""
        return self._fernet.rotate(ciphertext.encode()).decode()


def token_cipher() -> TokenCipher:
    settings = current_app.extensions["portal.settings"]
    return TokenCipher(settings.token_encryption_keys)
