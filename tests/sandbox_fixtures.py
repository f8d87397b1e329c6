"""The sandbox server for tests: one process per test session (``flask --app portal sandbox serve``, the
documented serving contract), reset to its deterministic starting point before each test that asks for it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT
from portal.sandbox.client import SandboxControl
from tests.conftest import subprocess_env, wait_for_port


class SandboxServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory, portal_env: dict[str, str],
                   sandbox_port: int) -> Iterator[SandboxServer]:
    workdir = tmp_path_factory.mktemp("sandbox")
    port = sandbox_port
    log_path = workdir / "sandbox.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "portal", "sandbox", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--db", str(workdir / "sandbox.db")],
            cwd=PROJECT_ROOT, env=subprocess_env(portal_env), stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=30, process=process)
    except Exception:
        raise RuntimeError(log_path.read_text()) from None
    yield SandboxServer(f"http://127.0.0.1:{port}", process, log_path)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxControl:
    control = SandboxControl(sandbox_server.url)
    control.reset()
    return control
