"""A tenant's hook credentials: the token in its hook URLs and the secrets the hooks check.

One random token names the tenant in ``/hooks/zoho/<token>`` (it is looked up by its SHA-256, so the lookup
reveals nothing about it); one random secret, never shown, derives every credential a caller must present:

- the Zoho channel token (``token`` in each notification, FACTS.md §6: at most 50 characters),
- the workflow-rule webhook secret (a custom parameter of the webhook),
- the Send to Xero key of the Zoho custom button's URL.

Each is an HMAC of the secret with its purpose, so one leaked credential opens nothing else; all are compared in
constant time. :func:`rotate` replaces token and secret together (the channels are then renewed with the new
channel token by the maintenance job).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import HookCredential, Tenant
from portal.services import connections
from portal.services.crypto import token_cipher

CHANNEL_TOKEN_LENGTH = 43  # Zoho: the channel token is at most 50 characters (FACTS.md §6)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _derive(secret: str, purpose: str) -> str:
    digest = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class HookKeys:
    tenant_id: int
    token: str
    secret: str

    @property
    def channel_token(self) -> str:
        return _derive(self.secret, "zoho-channel")[:CHANNEL_TOKEN_LENGTH]

    @property
    def workflow_secret(self) -> str:
        return _derive(self.secret, "zoho-workflow")

    @property
    def send_key(self) -> str:
        return _derive(self.secret, "send-to-xero")


def matches(expected: str, given: object) -> bool:
    """Constant-time comparison that also refuses a missing or non-text value."""
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def _credential(tenant_id: int) -> HookCredential | None:
    return db.session.scalar(select(HookCredential).where(HookCredential.tenant_id == tenant_id))


def _new_values() -> tuple[str, str]:
    return secrets.token_urlsafe(24), secrets.token_urlsafe(32)


def keys_for(tenant: Tenant) -> HookKeys:
    """The tenant's hook keys, created on first use."""
    credential = _credential(tenant.id)
    cipher = token_cipher()
    if credential is None:
        token, secret = _new_values()
        credential = HookCredential(tenant_id=tenant.id, token_hash=_hash(token),
                                    token_encrypted=cipher.encrypt(token), secret_encrypted=cipher.encrypt(secret))
        db.session.add(credential)
        try:
            db.session.commit()
        except IntegrityError:
            # Another request created them first: use those.
            db.session.rollback()
            return keys_for(tenant)
        return HookKeys(tenant.id, token, secret)
    return HookKeys(tenant.id, cipher.decrypt(credential.token_encrypted), cipher.decrypt(credential.secret_encrypted))


def keys_for_token(token: str) -> HookKeys | None:
    """The keys of the tenant whose hook URL carries ``token``; None for an unknown token."""
    if not token or len(token) > 100:
        return None
    credential = db.session.scalar(select(HookCredential).where(HookCredential.token_hash == _hash(token)))
    if credential is None:
        return None
    cipher = token_cipher()
    stored = cipher.decrypt(credential.token_encrypted)
    if not matches(stored, token):
        return None
    return HookKeys(credential.tenant_id, stored, cipher.decrypt(credential.secret_encrypted))


def rotate(tenant: Tenant) -> HookKeys:
    """New token and secret: every URL given to Zoho before stops working."""
    credential = _credential(tenant.id)
    if credential is None:
        return keys_for(tenant)
    token, secret = _new_values()
    cipher = token_cipher()
    credential.token_hash = _hash(token)
    credential.token_encrypted = cipher.encrypt(token)
    credential.secret_encrypted = cipher.encrypt(secret)
    db.session.commit()
    return HookKeys(tenant.id, token, secret)


# --- the URLs a tenant gives to Zoho and Xero ---------------------------------------------------------------


def zoho_hook_url(keys: HookKeys) -> str:
    return f"{connections.settings().public_url}/hooks/zoho/{keys.token}"


def send_button_url(keys: HookKeys, module: str = "${module}", record_id: str = "${id}") -> str:
    """The Send to Xero URL for a Zoho custom button ("Invoke a URL"). In Zoho CRM a button belongs to one module,
    so ``module`` is fixed there and ``record_id`` is the merge field, e.g. ``${Invoices.Invoice Id}``; the
    sandbox's button fills ``${module}`` and ``${id}`` itself."""
    return f"{zoho_hook_url(keys)}/send?module={module}&id={record_id}&key={keys.send_key}"


def xero_hook_url() -> str:
    return f"{connections.settings().public_url}/hooks/xero"
