"""Flask extensions, created once here and bound to the app in :func:`portal.create_app`."""

from __future__ import annotations

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from redis import Redis

from portal.models.base import Base

# Models subclass the plain SQLAlchemy Base (portal.models.base), so the engine can use them without Flask;
# Flask-SQLAlchemy only provides the session and engine, bound to the same metadata.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
mail = Mail()
talisman = Talisman()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def redis_connection() -> Redis:
    """The app's Redis client (queues, pacing, locks, counters), created on first use."""
    connection: Redis | None = current_app.extensions.get("portal.redis")
    if connection is None:
        # A Redis that does not answer fails fast (the dashboard says so) instead of hanging a request.
        connection = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=3)
        current_app.extensions["portal.redis"] = connection
    return connection
