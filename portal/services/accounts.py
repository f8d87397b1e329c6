"""People and tenants: sign-in, invitations, password changes and resets, language preferences."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.config import SUPPORTED_LOCALES
from portal.extensions import db
from portal.models import Invitation, Role, Tenant, User, utcnow

INVITATION_LIFETIME = timedelta(days=7)
PASSWORD_RESET_LIFETIME = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message is shown to the user."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions die with the password."""
    try:
        user_id_text, version_text = session_id.split(":", 1)
        user = db.session.get(User, int(user_id_text))
    except ValueError:
        return None
    if user is None or not user.is_active or str(user.session_version) != version_text:
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        # Spend the same time as a real check so that timing does not reveal which emails exist.
        check_password_hash(_dummy_password_hash(), password)
        return None
    if not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def validate_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("Choose a password of at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def create_tenant(slug: str, name: str, default_locale: str = "en", timezone: str = "UTC") -> Tenant:
    if not SLUG_PATTERN.match(slug):
        raise AccountError(_("A tenant slug uses lowercase letters, digits and hyphens."))
    if db.session.scalar(select(Tenant).where(Tenant.slug == slug)):
        raise AccountError(_("A tenant with the slug %(slug)s already exists.", slug=slug))
    tenant = Tenant(slug=slug, name=name, default_locale=default_locale, timezone=timezone)
    db.session.add(tenant)
    db.session.flush()
    return tenant


def create_user(email: str, password: str, role: Role, tenant: Tenant | None, name: str = "") -> User:
    if find_user_by_email(email):
        raise AccountError(_("An account with this email address already exists."))
    if (role is Role.SUPPORT) != (tenant is None):
        raise AccountError(_("Support staff belong to no tenant; everyone else belongs to exactly one."))
    validate_new_password(password)
    user = User(email=normalize_email(email), name=name, role=role.value, tenant_id=tenant.id if tenant else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise AccountError(_("Your current password is not correct."))
    validate_new_password(new_password)
    user.set_password(new_password)
    db.session.commit()


def set_user_locale(user: User, locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise AccountError("unsupported locale")
    user.locale = locale
    db.session.commit()


def set_tenant_locale(tenant: Tenant, locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise AccountError("unsupported locale")
    tenant.default_locale = locale
    db.session.commit()


# --- password reset -----------------------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_password_reset_token(user: User) -> str:
    # The password hash's tail is signed in, so a used link (the hash changed) cannot be used again.
    return _reset_serializer().dumps({"uid": user.id, "pw": user.password_hash[-16:]})


def user_for_password_reset_token(token: str) -> User | None:
    try:
        payload = _reset_serializer().loads(token, max_age=int(PASSWORD_RESET_LIFETIME.total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, payload.get("uid"))
    if user is None or not user.is_active or user.password_hash[-16:] != payload.get("pw"):
        return None
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_password_reset_token(token)
    if user is None:
        raise AccountError(_("This reset link has expired or was already used. Ask for a new one."))
    validate_new_password(new_password)
    user.set_password(new_password)
    db.session.commit()
    return user


# --- invitations ---------------------------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


def invite_user(tenant: Tenant, invited_by: User, email: str, role: Role) -> IssuedInvitation:
    if not invited_by.is_owner or invited_by.tenant_id != tenant.id:
        raise AccountError(_("Only the tenant's owners can invite people."))
    if role not in (Role.ADMIN, Role.OWNER):
        raise AccountError(_("Invite people as an admin or an owner."))
    if find_user_by_email(email):
        raise AccountError(_("An account with this email address already exists."))
    now = utcnow()
    for open_invitation in db.session.scalars(
        select(Invitation).where(Invitation.tenant_id == tenant.id, Invitation.email == normalize_email(email))
    ):
        if open_invitation.is_open(now):
            open_invitation.revoked_at = now  # the newest link replaces older ones
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant_id=tenant.id,
        email=normalize_email(email),
        role=role.value,
        token_hash=_hash_token(token),
        invited_by_id=invited_by.id,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.commit()
    return IssuedInvitation(invitation, token)


def open_invitation_for_token(token: str, now: datetime | None = None) -> Invitation | None:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash_token(token)))
    if invitation is None or not invitation.is_open(now or utcnow()):
        return None
    return invitation


def accept_invitation(token: str, name: str, password: str) -> User:
    invitation = open_invitation_for_token(token)
    if invitation is None:
        raise AccountError(_("This invitation has expired, was revoked or was already used."))
    user = create_user(invitation.email, password, Role(invitation.role), invitation.tenant, name=name)
    invitation.accepted_at = utcnow()
    db.session.commit()
    return user


def revoke_invitation(invitation: Invitation) -> None:
    invitation.revoked_at = utcnow()
    db.session.commit()


def remove_user(owner: User, user: User) -> None:
    if not owner.is_owner or owner.tenant_id != user.tenant_id:
        raise AccountError(_("Only the tenant's owners can remove people."))
    # The remover is an owner who stays: that is what keeps every tenant with at least one owner.
    if user.id == owner.id:
        raise AccountError(_("You cannot remove yourself."))
    db.session.delete(user)
    db.session.commit()


def tenant_users(tenant: Tenant) -> list[User]:
    return list(db.session.scalars(select(User).where(User.tenant_id == tenant.id).order_by(User.email)))


def open_invitations(tenant: Tenant) -> list[Invitation]:
    now = utcnow()
    rows = db.session.scalars(
        select(Invitation).where(Invitation.tenant_id == tenant.id).order_by(Invitation.created_at.desc())
    )
    return [row for row in rows if row.is_open(now)]


@functools.cache
def _dummy_password_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))
