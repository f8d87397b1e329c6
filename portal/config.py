"""Configuration, read once from the environment with defaults that work on a laptop.

Nothing else in the portal reads ``os.environ``: code receives a :class:`Settings` (or the Flask config
built from it). Secrets that must survive a restart but have no value in the environment (the Flask secret
key and the token encryption key) are generated on first run and kept under ``instance/``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"
DEFAULT_SANDBOX_PORT = 5050

SUPPORTED_LOCALES = ("en", "fr", "de")


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _read_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written with owner-only permissions (the file holds a key, not configuration) to a private name, then
    # linked into place: web, worker and scheduler start together, and exactly one of them must win.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make() + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process won the race: everyone uses its key
    finally:
        draft.unlink()
    return path.read_text().strip()


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@dataclass(frozen=True)
class Settings:
    """Everything the portal can be configured with. Field names match the environment variables."""

    instance_path: Path = DEFAULT_INSTANCE_PATH
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = ""
    # Comma-separated Fernet keys, newest first: the first encrypts, all decrypt (rotation).
    token_encryption_keys: tuple[str, ...] = ()
    public_url: str = "http://127.0.0.1:5000"
    sandbox_url: str = f"http://127.0.0.1:{DEFAULT_SANDBOX_PORT}"
    # How much faster than real time the sandbox clock runs (its ``clock`` control); the connectors' pacing
    # must use the same scale so that a remote "minute" lasts as long on both sides.
    sandbox_time_scale: float = 1.0
    zoho_client_id: str = ""
    zoho_client_secret: str = ""
    xero_client_id: str = ""
    xero_client_secret: str = ""
    xero_webhook_key: str = ""
    assets_offline: bool = False
    session_cookie_secure: bool = False
    mail_server: str = ""
    mail_port: int = 587
    mail_username: str = ""
    mail_password: str = ""
    mail_use_tls: bool = True
    mail_default_sender: str = "Zoxero <no-reply@zoxero.local>"
    log_level: str = "INFO"
    # How many reverse proxies (each adding X-Forwarded-For/-Proto) stand in front of the web process: the
    # per-address sign-in throttle must see the visitor's address, not the proxy's.
    trusted_proxies: int = 0
    # How long Zoho and Xero metadata (fields, picklists, accounts, tax rates...) is used before it is read again;
    # the mapping page's Refresh button reads it at once.
    metadata_cache_ttl_seconds: int = 6 * 3600
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance_path = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
        # SQLAlchemy dropped the "postgres://" alias that some hosts still hand out.
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url[len("postgres://") :]
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        secret_key = env.get("SECRET_KEY") or _read_or_create_secret(
            instance_path / "secret_key", lambda: secrets.token_urlsafe(48)
        )
        keys_raw = env.get("TOKEN_ENCRYPTION_KEYS") or _read_or_create_secret(
            instance_path / "token_encryption_keys", _new_fernet_key
        )
        keys = tuple(key.strip() for key in keys_raw.split(",") if key.strip())
        return cls(
            instance_path=instance_path,
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or cls.redis_url,
            secret_key=secret_key,
            token_encryption_keys=keys,
            public_url=(env.get("PUBLIC_URL") or cls.public_url).rstrip("/"),
            sandbox_url=(env.get("SANDBOX_URL") or cls.sandbox_url).rstrip("/"),
            sandbox_time_scale=float(env.get("SANDBOX_TIME_SCALE") or 1.0),
            zoho_client_id=env.get("ZOHO_CLIENT_ID", ""),
            zoho_client_secret=env.get("ZOHO_CLIENT_SECRET", ""),
            xero_client_id=env.get("XERO_CLIENT_ID", ""),
            xero_client_secret=env.get("XERO_CLIENT_SECRET", ""),
            xero_webhook_key=env.get("XERO_WEBHOOK_KEY", ""),
            assets_offline=_flag(env.get("ASSETS_OFFLINE")),
            session_cookie_secure=_flag(env.get("SESSION_COOKIE_SECURE")),
            mail_server=env.get("MAIL_SERVER", ""),
            mail_port=int(env.get("MAIL_PORT") or 587),
            mail_username=env.get("MAIL_USERNAME", ""),
            mail_password=env.get("MAIL_PASSWORD", ""),
            mail_use_tls=_flag(env.get("MAIL_USE_TLS"), default=True),
            mail_default_sender=env.get("MAIL_DEFAULT_SENDER") or cls.mail_default_sender,
            log_level=env.get("LOG_LEVEL") or cls.log_level,
            trusted_proxies=int(env.get("TRUSTED_PROXIES") or 0),
            metadata_cache_ttl_seconds=int(env.get("METADATA_CACHE_TTL_SECONDS") or cls.metadata_cache_ttl_seconds),
        )

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def zoho_uses_sandbox(self) -> bool:
        return not (self.zoho_client_id and self.zoho_client_secret)

    @property
    def xero_uses_sandbox(self) -> bool:
        return not (self.xero_client_id and self.xero_client_secret)

    def flask_config(self) -> dict[str, Any]:
        """The Flask config keys derived from these settings."""
        config: dict[str, Any] = {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(self.database_url),
            "REDIS_URL": self.redis_url,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.session_cookie_secure,
            "REMEMBER_COOKIE_DURATION": timedelta(days=30),
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": "en",
            "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
            "ASSETS_OFFLINE": self.assets_offline,
            "RATELIMIT_STORAGE_URI": self.redis_url,
            "RATELIMIT_STRATEGY": "moving-window",
            "RATELIMIT_HEADERS_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": "portal-limit",
            # Redis down must not lock everyone out: throttle in memory until it is back.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "PUBLIC_URL": self.public_url,
            "MAIL_DEFAULT_SENDER": self.mail_default_sender,
        }
        if self.mail_server:
            config.update(
                MAIL_BACKEND="smtp",
                MAIL_SERVER=self.mail_server,
                MAIL_PORT=self.mail_port,
                MAIL_USERNAME=self.mail_username or None,
                MAIL_PASSWORD=self.mail_password or None,
                MAIL_USE_TLS=self.mail_use_tls,
            )
        else:
            # No SMTP configured: mail is printed to the console so that sign-up and reset links still work.
            config["MAIL_BACKEND"] = "console"
        config.update(self.extra)
        return config

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to show or log: every secret is masked."""
        masked = {"secret_key", "token_encryption_keys", "zoho_client_secret", "xero_client_secret",
                  "xero_webhook_key", "mail_password"}
        return {k: ("***" if k in masked and v else v) for k, v in asdict(self).items()}


def _engine_options(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite"):
        # Workers and web share one SQLite file: wait for a writer instead of failing with "database is locked".
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}
