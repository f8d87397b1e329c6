"""The home page after sign-in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.jobs.health import background_health, request_ping
from portal.services.access import current_tenant_or_none
from portal.web.helpers import render_page_or_fragment, tenant_member_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    if current_user.is_support and current_tenant_or_none() is None:
        return redirect(url_for("support.index"))
    return render_page_or_fragment(
        "dashboard/home.html", "dashboard/_background.html", health=background_health()
    )


@bp.post("/health/ping")
@tenant_member_required
def ping_worker() -> ResponseReturnValue:
    request_ping()
    flash(_("A ping was sent to the background worker."), "info")
    return redirect(url_for("dashboard.home"))
