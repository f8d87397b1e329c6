"""The Zoho CRM ⇄ Xero sync portal: ``create_app`` is the application factory (``flask --app portal``)."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import PROJECT_ROOT, Settings


def create_app(settings: Settings | None = None, **config_overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.flask_config())
    app.config.update(config_overrides)
    app.extensions["portal.settings"] = settings
    if settings.sandbox_url.startswith("http://") and (settings.xero_uses_sandbox or settings.zoho_uses_sandbox):
        # oauthlib refuses plain-HTTP token endpoints; the local sandboxes are served over HTTP on loopback.
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _init_extensions(app)

    from portal.web import register_web

    register_web(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401 - registers every table before Alembic compares metadata
    from portal.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
    from portal.i18n import select_locale, select_timezone
    from portal.web.security import init_security

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    init_security(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets the web process read while a worker writes; foreign keys are off by default in SQLite.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
