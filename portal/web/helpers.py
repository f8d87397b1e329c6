"""Small helpers every blueprint uses: page-or-fragment rendering and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(
    page: str, fragment: str, status: int = 200, trigger: str | None = None, **context: Any
) -> ResponseReturnValue:
    """Answer an HTMX request with the fragment and anything else with the full page that includes it."""
    template = fragment if is_htmx() and not request.headers.get("HX-Boosted") else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    if trigger:
        response.headers["HX-Trigger"] = trigger
    return response


def local_url_or(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: redirects never leave the portal."""
    if target and target.startswith(request.host_url):
        target = "/" + target[len(request.host_url):]
    # Browsers take "//host" for another site, read a backslash as a slash, and drop tabs and newlines.
    if not target or not target.isprintable() or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def owner_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def tenant_member_required(view: F) -> F:
    """For pages about the signed-in user's own tenant (admins and owners)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.can_manage_tenant:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def support_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_support:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def tenant_page(view: F) -> F:
    """A page about one tenant: its admins and owners, or support staff looking at it (read-only)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from portal.services.access import current_tenant_or_none

        if not (current_user.can_manage_tenant or (current_user.is_support and current_tenant_or_none())):
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)
