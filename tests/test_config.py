"""Configuration: read once from the environment, with defaults that work on a laptop."""

from __future__ import annotations

import ast
import re
import stat
import threading

from cryptography.fernet import Fernet

from portal import create_app
from portal.config import PROJECT_ROOT, Settings


def test_secrets_are_generated_into_the_instance_folder_on_first_run(tmp_path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    secret_file, keys_file = tmp_path / "secret_key", tmp_path / "token_encryption_keys"
    for path in (secret_file, keys_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert settings.secret_key == secret_file.read_text().strip() and len(settings.secret_key) >= 48
    Fernet(settings.token_encryption_keys[0])  # a usable key
    # The next start (or the worker) reads the same ones: sessions and tokens survive a restart.
    assert Settings.from_env({"INSTANCE_PATH": str(tmp_path)}) == settings


def test_processes_starting_together_agree_on_the_generated_secrets(tmp_path):
    results = []
    threads = [threading.Thread(target=lambda: results.append(Settings.from_env({"INSTANCE_PATH": str(tmp_path)})))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len({s.secret_key for s in results}) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key", "token_encryption_keys"]


def test_secrets_from_the_environment_win_and_nothing_is_written(tmp_path):
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "from-env",
                                  "TOKEN_ENCRYPTION_KEYS": f" {keys[0]} , {keys[1]} "})
    assert settings.secret_key == "from-env"
    assert settings.token_encryption_keys == tuple(keys)  # newest first: the first encrypts, all decrypt
    assert list(tmp_path.iterdir()) == []


def test_database_defaults_to_sqlite_under_the_instance_folder(tmp_path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/portal.db"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_postgres_urls_are_normalised_for_psycopg_3(tmp_path):
    for given in ("postgres://u:p@db:5432/portal", "postgresql://u:p@db:5432/portal"):
        settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": given})
        assert settings.database_url == "postgresql+psycopg://u:p@db:5432/portal"
    explicit = "postgresql+psycopg://u:p@db/portal"
    assert Settings.from_env({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": explicit}).database_url == explicit


def test_flags_and_numbers_are_parsed(tmp_path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path), "ASSETS_OFFLINE": "yes",
                                  "SESSION_COOKIE_SECURE": "1", "MAIL_USE_TLS": "off", "MAIL_PORT": "2525",
                                  "TRUSTED_PROXIES": "1", "PUBLIC_URL": "https://sync.example.com/"})
    assert settings.assets_offline and settings.session_cookie_secure and not settings.mail_use_tls
    assert settings.mail_port == 2525 and settings.trusted_proxies == 1
    assert settings.public_url == "https://sync.example.com"
    config = settings.flask_config()
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


def test_mail_goes_to_the_console_unless_smtp_is_configured(tmp_path):
    base = {"INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(base).flask_config()["MAIL_BACKEND"] == "console"
    smtp = Settings.from_env({**base, "MAIL_SERVER": "smtp.example.com", "MAIL_PASSWORD": "hunter2"})
    assert smtp.flask_config()["MAIL_BACKEND"] == "smtp"
    assert smtp.public_dict()["mail_password"] == "***" and smtp.public_dict()["secret_key"] == "***"


def test_settings_are_read_once(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "first")
    app = create_app()
    monkeypatch.setenv("SECRET_KEY", "second")
    with app.app_context():
        assert app.config["SECRET_KEY"] == "first"
    assert app.extensions["portal.settings"].secret_key == "first"


def test_nothing_but_portal_config_reads_the_environment():
    readers = []
    for path in [*sorted((PROJECT_ROOT / "portal").rglob("*.py")), PROJECT_ROOT / "worker.py"]:
        tree = ast.parse(path.read_text(), filename=str(path))
        # os.environ.setdefault(...) only hands a library its setting (oauthlib reads the environment itself).
        writes = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and node.attr == "setdefault"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"} \
                    and isinstance(node.value, ast.Name) and node.value.id == "os" and id(node) not in writes:
                readers.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert readers and all(reader.startswith("portal/config.py:") for reader in readers), readers


def test_behind_a_proxy_the_visitors_address_is_used(tmp_path, settings):
    proxied = create_app(settings.with_overrides(trusted_proxies=1))
    seen = []

    @proxied.get("/whoami")
    def whoami():
        from flask import request

        seen.append((request.remote_addr, request.scheme))
        return ""

    proxied.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == [("203.0.113.7", "https")]


def test_the_readme_documents_every_setting():
    source = (PROJECT_ROOT / "portal" / "config.py").read_text()
    variables = set(re.findall(r'env\.get\("([A-Z_]+)"', source))
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert len(variables) > 15
    assert sorted(name for name in variables if f"`{name}`" not in readme) == []
