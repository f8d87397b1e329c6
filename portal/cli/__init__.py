"""``flask --app portal ...`` commands, one group per area."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from portal.cli import i18n, sandbox, tenants

    app.cli.add_command(i18n.i18n)
    app.cli.add_command(tenants.tenant)
    app.cli.add_command(tenants.user)
    app.cli.add_command(tenants.demo)
    app.cli.add_command(sandbox.sandbox)
