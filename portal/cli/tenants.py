"""Tenants, users and the demo tenant from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, Tenant
from portal.services import accounts

DEMO_SLUG = "demo"
DEMO_OWNER_EMAIL = "owner@demo.example"
DEMO_OWNER_PASSWORD = "demo-password"  # noqa: S105 - the documented sign-in of the local demo tenant


@click.group()
def tenant() -> None:
    """Tenants (customer companies)."""


@tenant.command("create")
@click.option("--slug", required=True, help="Short unique name, e.g. acme.")
@click.option("--name", required=True, help="Display name, e.g. 'ACME Ltd'.")
@click.option("--owner-email", required=True)
@click.option("--owner-password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", default="en", type=click.Choice(["en", "fr", "de"]))
@with_appcontext
def create_tenant(slug: str, name: str, owner_email: str, owner_password: str, locale: str) -> None:
    """Create a tenant and its first owner."""
    try:
        new_tenant = accounts.create_tenant(slug, name, default_locale=locale)
        accounts.create_user(owner_email, owner_password, Role.OWNER, new_tenant)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created tenant {slug} with owner {owner_email}.")


@click.group()
def user() -> None:
    """Users who are not tied to a tenant."""


@user.command("create-support")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_support(email: str, password: str) -> None:
    """Create a support user (read-only across all tenants)."""
    try:
        accounts.create_user(email, password, Role.SUPPORT, None)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created support user {email}.")


@click.command()
@with_appcontext
def demo() -> None:
    """Create (or reuse) the demo tenant and its owner, and print how to sign in."""
    demo_tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    if demo_tenant is None:
        demo_tenant = accounts.create_tenant(DEMO_SLUG, "Demo Company")
    if accounts.find_user_by_email(DEMO_OWNER_EMAIL) is None:
        accounts.create_user(DEMO_OWNER_EMAIL, DEMO_OWNER_PASSWORD, Role.OWNER, demo_tenant, name="Demo Owner")
    db.session.commit()
    click.echo(f"Demo tenant ready. Sign in as {DEMO_OWNER_EMAIL} with the password {DEMO_OWNER_PASSWORD}")
