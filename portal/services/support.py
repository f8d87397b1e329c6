"""Support staff's read-only access to tenants, and the log of it that tenant owners can read."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request
from sqlalchemy import select

from portal.extensions import db
from portal.models import SupportAccess, Tenant, User

# Pages of our own (not the tenant's data) that support staff open without it being a look at a tenant.
NOT_TENANT_DATA = frozenset({"support", "auth", "account", "static"})


def is_refresh_of_same_page(request: Request) -> bool:
    """An HTMX poll of the page already open (e.g. live progress) is part of the view already logged."""
    current = request.headers.get("HX-Current-URL")
    return request.headers.get("HX-Request") == "true" and current is not None and \
        urlsplit(current).path == request.path


def log_support_view(user: User, tenant: Tenant, request: Request) -> None:
    if request.blueprint in NOT_TENANT_DATA or request.endpoint is None or is_refresh_of_same_page(request):
        return
    db.session.add(SupportAccess(tenant_id=tenant.id, user_id=user.id, user_email=user.email,
                                 method=request.method, path=request.full_path.rstrip("?")[:500],
                                 view=request.endpoint[:100]))
    db.session.commit()


def support_accesses(tenant: Tenant, limit: int = 200) -> list[SupportAccess]:
    return list(db.session.scalars(
        select(SupportAccess).where(SupportAccess.tenant_id == tenant.id)
        .order_by(SupportAccess.at.desc(), SupportAccess.id.desc()).limit(limit)
    ))
