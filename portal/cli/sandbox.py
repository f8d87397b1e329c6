"""``flask --app portal sandbox serve``: the local Zoho CRM and Xero emulators, in their own process."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app


@click.group()
def sandbox() -> None:
    """The local emulators of Zoho CRM and Xero."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5050, show_default=True, type=int)
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The sandboxes' database file (default: instance/sandbox.db).")
@click.option("--threads", default=32, show_default=True, type=int)
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(host: str, port: int, db_path: Path | None, threads: int, access_log: bool) -> None:
    """Serve both sandboxes: Xero under /xero, Zoho CRM under /zoho, control API under /<side>/_sandbox/."""
    from portal.sandbox.serve import serve as run_server

    path = db_path or Path(current_app.instance_path) / "sandbox.db"
    click.echo(f"Sandboxes on http://{host}:{port}/ (database {path})")
    run_server(host, port, path, threads=threads, access_log=access_log)
