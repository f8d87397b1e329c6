"""Serving the sandboxes: gunicorn with one process and many threads, so that a hanging call (the ``timeout``
fault) or a client's five concurrent calls never block the others, and in-process limits see every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from portal.sandbox.core.server import create_sandbox_app


class _SandboxServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, db_path: Path, options: dict[str, Any]) -> None:
        self.db_path = db_path
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in the worker, after gunicorn forks: the delivery threads must run in the process that serves
        # the requests (threads do not survive a fork), with the clock that the control API moves.
        return create_sandbox_app(self.db_path)


def serve(host: str, port: int, db_path: Path, threads: int = 32, access_log: bool = False) -> None:
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
    _SandboxServer(db_path, options).run()
