"""The one way views reach tenant data: everything is scoped to the tenant the signed-in user may see.

Tenant admins and owners see their own tenant. Support staff see the tenant they chose to look at (kept in
the session), read-only; a global guard in portal.web refuses their writes.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from flask import abort, session
from flask_login import current_user
from sqlalchemy import Select, select

from portal.extensions import db
from portal.models import InboundEvent, Invitation, MappingVersion, Tenant, User

T = TypeVar("T")

VIEWED_TENANT_KEY = "support_viewed_tenant_id"


def current_tenant_or_none() -> Tenant | None:
    if not current_user.is_authenticated:
        return None
    if current_user.is_support:
        tenant_id = session.get(VIEWED_TENANT_KEY)
        return db.session.get(Tenant, tenant_id) if tenant_id else None
    tenant: Tenant | None = current_user.tenant
    return tenant


def current_tenant() -> Tenant:
    tenant = current_tenant_or_none()
    if tenant is None:
        abort(404)
    return tenant


def scoped(statement: Select[Any], model: Any) -> Select[Any]:
    """Filter a select of a tenant-owned model to the current tenant."""
    return statement.where(model.tenant_id == current_tenant().id)


def get_scoped_or_404(model: type[T], object_id: Any) -> T:
    obj = db.session.scalar(scoped(select(model), model).where(model.id == object_id))  # type: ignore[attr-defined]
    if obj is None:
        abort(404)
    return cast(T, obj)


def get_user_for_user(user_id: int) -> User:
    return get_scoped_or_404(User, user_id)


def get_invitation_for_user(invitation_id: int) -> Invitation:
    return get_scoped_or_404(Invitation, invitation_id)


def get_inbound_event_for_user(event_id: int) -> InboundEvent:
    return get_scoped_or_404(InboundEvent, event_id)


def get_mapping_version_for_user(version_id: int) -> MappingVersion:
    return get_scoped_or_404(MappingVersion, version_id)


def view_tenant_as_support(tenant: Tenant) -> None:
    session[VIEWED_TENANT_KEY] = tenant.id


def stop_viewing_tenant() -> None:
    session.pop(VIEWED_TENANT_KEY, None)
