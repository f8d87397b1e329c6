"""The web layer: one blueprint per area, shared error pages and the guards every request passes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.i18n import LANGUAGE_NAMES

ROLE_LABELS = {"owner": _l("Owner"), "admin": _l("Admin"), "support": _l("Support staff")}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(str(role), role))


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The only writes support staff may make: about their own session and profile, never about tenant data.
SUPPORT_ALLOWED_WRITES = frozenset(
    {"auth.logout", "account.update_language", "account.change_password", "support.view_tenant",
     "support.leave_tenant"}
)


def register_web(app: Flask) -> None:
    from portal.web import (
        account,
        auth,
        connections,
        dashboard,
        hooks,
        mapping,
        placeholders,
        settings,
        support,
        triggers,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(support.bp)
    app.register_blueprint(connections.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(mapping.bp)
    app.register_blueprint(triggers.bp)
    app.register_blueprint(hooks.bp)
    for blueprint in placeholders.blueprints:
        app.register_blueprint(blueprint)

    app.before_request(_refuse_support_writes)
    app.before_request(_log_support_views)
    app.after_request(_no_caching_of_private_pages)
    app.context_processor(_template_context)
    app.jinja_env.filters.update(
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        number=lambda value: format_decimal(value) if value is not None else "",
    )
    from portal.services.money import format_money

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["parse_iso"] = datetime.fromisoformat
    app.jinja_env.globals["role_label"] = role_label

    for status in (400, 403, 404, 405, 409, 410, 422, 429, 500):
        app.register_error_handler(status, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)


def _refuse_support_writes() -> None:
    if request.method in SAFE_METHODS or not current_user.is_authenticated:
        return
    if current_user.is_support and request.endpoint not in SUPPORT_ALLOWED_WRITES:
        abort(403)


def _no_caching_of_private_pages(response: Response) -> Response:
    # A signed-in page holds a tenant's data: neither a shared proxy nor the browser's history may keep it
    # (the Back button after signing out on a shared computer).
    if current_user.is_authenticated and request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _log_support_views() -> None:
    if not current_user.is_authenticated or not current_user.is_support:
        return
    from portal.services.access import current_tenant_or_none
    from portal.services.support import log_support_view

    tenant = current_tenant_or_none()
    if tenant is not None:
        log_support_view(current_user, tenant, request)


def _template_context() -> dict[str, Any]:
    from portal.services.access import current_tenant_or_none
    from portal.web.assets import vendor_asset
    from portal.web.navigation import navigation

    tenant = current_tenant_or_none()
    return {
        "vendor_asset": vendor_asset,
        "current_locale": str(get_locale() or "en"),
        "language_names": LANGUAGE_NAMES,
        "tenant": tenant,
        "navigation": navigation(tenant_visible=tenant is not None),
    }


ERROR_TITLES = {
    400: lambda: _("The request could not be understood"),
    403: lambda: _("You do not have access to this page"),
    404: lambda: _("Page not found"),
    405: lambda: _("This action is not allowed here"),
    409: lambda: _("This conflicts with the current state"),
    410: lambda: _("This link is no longer valid"),
    422: lambda: _("Some of the values were not valid"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Something went wrong on our side"),
}

ERROR_HINTS = {
    403: lambda: _("Ask an owner of your account if you need access."),
    404: lambda: _("The address may be mistyped, or the item was removed."),
    429: lambda: _("Please wait a minute before you try again."),
    500: lambda: _("The error has been logged. Please try again in a moment."),
}


def _error_page(error: Exception) -> ResponseReturnValue:
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    if status == 500:
        from portal.extensions import db

        db.session.rollback()
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])()
    hint = ERROR_HINTS.get(status, lambda: "")()
    description = ""
    # Werkzeug's stock descriptions are English; only a description a view passed to abort() is shown.
    if isinstance(error, HTTPException) and error.description != type(error).description:
        description = str(error.description)
    return render_template("errors/error.html", status=status, title=title, hint=hint,
                           description=description), status


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return render_template(
        "errors/error.html",
        status=400,
        title=_("Your form expired"),
        hint=_("Reload the page and submit the form again."),
        description="",
    ), 400
