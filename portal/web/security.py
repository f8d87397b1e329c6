"""Security headers, session handling and sign-in plumbing shared by every view."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.extensions import login_manager, talisman
from portal.web.assets import cdn_sources


def content_security_policy(frame_ancestors: str = "'none'") -> dict[str, str | list[str]]:
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *cdn_sources("js")],
        "style-src": ["'self'", *cdn_sources("css")],
        # Pico draws its checkboxes and chevrons with data: SVGs.
        "img-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
        "frame-ancestors": frame_ancestors,
    }


def init_security(app: Flask) -> None:
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy; production sets SESSION_COOKIE_SECURE and HSTS below
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=content_security_policy(),
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
    )
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from portal.services.accounts import load_user_from_session_id

    login_manager.user_loader(load_user_from_session_id)
