"""Serving the sandboxes: gunicorn with one process and many threads, so that a hanging call (the ``timeout``
fault) or a client's five concurrent calls never block the others, and in-process limits see every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from portal.sandbox.core.server import create_sandbox_app


class _SandboxServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(host: str, port: int, db_path: Path, threads: int = 32, access_log: bool = False) -> None:
    app = create_sandbox_app(db_path)
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        # Long enough for the timeout fault to hang past any client's timeout without the worker being killed.
        "timeout": 300,
        "graceful_timeout": 5,
        "keepalive": 30,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    _SandboxServer(app, options).run()
