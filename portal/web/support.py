"""Support staff's area: every tenant, read-only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.models import Tenant
from portal.services.access import stop_viewing_tenant, view_tenant_as_support
from portal.web.helpers import support_required

bp = Blueprint("support", __name__, url_prefix="/support")


@bp.get("/")
@support_required
def index() -> ResponseReturnValue:
    tenants = db.session.scalars(select(Tenant).order_by(Tenant.name)).all()
    return render_template("support/index.html", tenants=tenants)


@bp.post("/tenants/<slug>/view")
@support_required
def view_tenant(slug: str) -> ResponseReturnValue:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        return redirect(url_for("support.index"))
    view_tenant_as_support(tenant)
    flash(_("You are looking at %(tenant)s, read-only.", tenant=tenant.name), "info")
    return redirect(url_for("dashboard.home"))


@bp.post("/leave")
@support_required
def leave_tenant() -> ResponseReturnValue:
    stop_viewing_tenant()
    return redirect(url_for("support.index"))
