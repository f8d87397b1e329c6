"""Build test data through the same services the portal uses, so invariants hold in tests too."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Role, Tenant, User
from portal.services import accounts

DEFAULT_PASSWORD = "correct horse battery"


def tenant(slug: str, name: str, default_locale: str = "en") -> Tenant:
    new_tenant = accounts.create_tenant(slug, name, default_locale=default_locale)
    db.session.commit()
    return new_tenant


def user(tenant: Tenant | None, role: str, email: str, name: str = "", password: str = DEFAULT_PASSWORD) -> User:
    new_user = accounts.create_user(email, password, Role(role), tenant, name=name)
    db.session.commit()
    return new_user
