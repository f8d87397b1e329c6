"""Test bed: a private real Redis, a real database (SQLite, or PostgreSQL when PORTAL_TEST_DB=postgresql),
the app built from explicit settings, and named personas.

Every test starts from empty tables and an empty Redis. Subprocesses (workers, the sandbox server) get the
same settings through ``portal_env``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import create_engine, text

from portal import create_app
from portal.config import PROJECT_ROOT, Settings
from tests import factories

ARTIFACTS = PROJECT_ROOT / "test-artifacts"

# Fixtures of their own modules: real-browser (live_server, page) and the sandbox server.
pytest_plugins = ["tests.browser", "tests.sandbox_fixtures"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


# --- services ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for this test session, so parallel runs never share queues or keys."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.exit("redis-server is not installed; run the README's test command, which installs it", 2)
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, process=process)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("PORTAL_TEST_DB") == "postgresql":
        admin_url = os.environ.get(
            "TEST_POSTGRES_URL", "postgresql+psycopg:///postgres?host=/var/run/postgresql"
        )
        name = f"portal_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = re.sub(r"/postgres(\?|$)", f"/{name}\\1", admin_url, count=1)
        yield url
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"


@pytest.fixture(scope="session")
def sandbox_port() -> int:
    """Chosen up front so that the portal's SANDBOX_URL is known before the sandbox server starts (lazily)."""
    return free_port()


@pytest.fixture(scope="session")
def portal_env(database_url: str, redis_url: str, sandbox_port: int,
               tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment a portal process (web, worker, CLI) of this test session runs with."""
    instance = tmp_path_factory.mktemp("instance")
    return {
        "SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key-" + uuid.uuid4().hex,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ASSETS_OFFLINE": "1",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "LOG_LEVEL": "WARNING",
    }


def subprocess_env(portal_env: dict[str, str], **extra: str) -> dict[str, str]:
    # Nothing of the developer's own environment may point a test at real services or another database.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "ZOHO_", "XERO_", "SANDBOX_", "PUBLIC_URL"))}
    env.update(portal_env)
    env.update(extra)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


# --- the app -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def settings(portal_env: dict[str, str]) -> Settings:
    return Settings.from_env(portal_env)


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: ``g`` (Flask-Login's cached user) and the
    database session never leak from the test's own app context into a request or between requests."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _migrated_app(settings: Settings) -> Flask:
    app = create_app(settings, TESTING=True, MAIL_BACKEND="locmem")
    app.test_client_class = IsolatedClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


@pytest.fixture
def app(_migrated_app: Flask, redis_url: str) -> Iterator[Flask]:
    from portal.extensions import db
    from portal.models import Base

    Redis.from_url(redis_url).flushall()
    with _migrated_app.app_context():
        _truncate_all(db, Base)
        yield _migrated_app
        db.session.remove()


def _truncate_all(db: Any, base: Any) -> None:
    tables = list(reversed(base.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(app: Flask) -> list[Any]:
    from flask_mailman import Mail

    mail: Mail = app.extensions["mailman"]
    mail.outbox = []  # type: ignore[attr-defined]
    return mail.outbox  # type: ignore[attr-defined, no-any-return]


# --- personas ------------------------------------------------------------------------------------------------


@pytest.fixture
def acme(app: Flask) -> Any:
    return factories.tenant("acme", "ACME Ltd")


@pytest.fixture
def globex(app: Flask) -> Any:
    return factories.tenant("globex", "Globex Corporation", default_locale="de")


@pytest.fixture
def acme_owner(acme: Any) -> Any:
    return factories.user(acme, "owner", "olivia@acme.example", name="Olivia Owner")


@pytest.fixture
def acme_admin(acme: Any) -> Any:
    return factories.user(acme, "admin", "adam@acme.example", name="Adam Admin")


@pytest.fixture
def globex_owner(globex: Any) -> Any:
    return factories.user(globex, "owner", "greta@globex.example", name="Greta Owner")


@pytest.fixture
def support_agent(app: Flask) -> Any:
    return factories.user(None, "support", "sam@support.example", name="Sam Support")


# --- processes -----------------------------------------------------------------------------------------------


class ProcessGroup:
    """Background processes a test starts; all are stopped when the test ends."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str, **extra_env: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            list(args), cwd=PROJECT_ROOT, env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self.start(name, sys.executable, "worker.py")

    def stop(self, process: subprocess.Popen[bytes], kill: bool = False) -> None:
        if process.poll() is None:
            process.kill() if kill else process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def processes(portal_env: dict[str, str], tmp_path: Path) -> Iterator[ProcessGroup]:
    group = ProcessGroup(subprocess_env(portal_env), tmp_path)
    yield group
    group.stop_all()


# --- helpers -------------------------------------------------------------------------------------------------

CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page) or re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, user: Any, password: str = factories.DEFAULT_PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def post_form(client: FlaskClient, path: str, data: dict[str, Any] | None = None, page: str = "/",
              **kwargs: Any) -> Any:
    """POST like a browser: with the CSRF token from a page of the signed-in session."""
    payload = {"csrf_token": csrf_token(client, page), **(data or {})}
    return client.post(path, data=payload, **kwargs)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
