"""Who may do what: anonymous visitors, support staff (read-only, no tenant), and tenant isolation.

These tests walk the whole URL map, so every route a later change adds is checked too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Invitation, MappingVersion, Role, User
from portal.services import accounts, inbound
from portal.sync.mapping_defaults import CUSTOMERS_FROM_ACCOUNTS, default_mapping
from portal.sync.mapping_store import save_mapping
from portal.web import SUPPORT_ALLOWED_WRITES
from tests.conftest import csrf_token, post_form, sign_in

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Pages anyone may open: signing in, the links sent by mail (their token is the credential), and the hooks Zoho
# and Xero call (each checks a signature or a tenant secret instead of a session).
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.forgot_password", "auth.reset_password", "auth.accept_invitation",
                    "hooks.zoho", "hooks.send_button", "hooks.send_status", "hooks.xero"}
# URL arguments that name no object, only a choice within the signed-in tenant, and a value for each.
CHOICE_ARGUMENTS = {"side": "xero", "pair": "accounts-contacts"}
# Values for URL arguments that this test does not need to be real (the guard answers before the view).
SAMPLE_VALUES = {"IntegerConverter": 1, "UnicodeConverter": "x", "PathConverter": "x"}


def rules(app, methods=None):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if methods is None or rule.methods & methods:
            yield rule


def url_for_rule(app, rule, values=None):
    values = dict(values or {})
    for name, converter in rule._converters.items():
        values.setdefault(name, SAMPLE_VALUES[type(converter).__name__])
    return app.url_map.bind("localhost").build(rule.endpoint, values)


# --- anonymous visitors --------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_from_every_page(app, client):
    token = csrf_token(client)
    checked = 0
    for rule in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = url_for_rule(app, rule)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login?next="), url
            checked += 1
        for method in sorted(rule.methods & WRITE_METHODS):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, f"{method} {url}"
            assert response.headers["Location"].startswith("/login"), f"{method} {url}"
            checked += 1
    assert checked >= 20


def test_public_pages_open_without_signing_in(client):
    assert client.get("/login").status_code == 200
    assert client.get("/forgot-password").status_code == 200
    assert client.get("/invitations/no-such-token").status_code == 410


def test_signing_in_returns_to_the_page_asked_for(client, acme_admin):
    response = client.get("/mapping/")
    next_url = response.headers["Location"]
    token = csrf_token(client, next_url)
    response = client.post(next_url, data={"email": acme_admin.email, "password": "correct horse battery",
                                           "csrf_token": token})
    assert response.headers["Location"] == "/mapping/"


# --- support staff -------------------------------------------------------------------------------------------


def view_as_support(client, slug):
    response = post_form(client, f"/support/tenants/{slug}/view", page="/support/")
    assert response.status_code == 302


def test_support_staff_belong_to_no_tenant(app, acme, support_agent):
    assert support_agent.tenant_id is None
    with pytest.raises(accounts.AccountError):
        accounts.create_user("sue@support.example", "a long enough password", Role.SUPPORT, acme)
    with pytest.raises(accounts.AccountError):
        accounts.create_user("tim@acme.example", "a long enough password", Role.ADMIN, None)
    # The database refuses it too, whatever code tries.
    support_agent.tenant_id = acme.id
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_support_users_are_created_from_the_command_line(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create-support", "--email", "Sue@Support.example", "--password", "a long enough password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created support user Sue@Support.example." in result.output
    sue = accounts.find_user_by_email("sue@support.example")
    assert sue.role == "support" and sue.tenant_id is None
    again = app.test_cli_runner().invoke(
        args=["user", "create-support", "--email", "sue@support.example", "--password", "a long enough password"]
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_support_staff_pick_a_tenant_and_read_its_pages(client, acme, globex, acme_owner, support_agent):
    sign_in(client, support_agent)
    response = client.get("/")
    assert response.headers["Location"] == "/support/"
    listing = client.get("/support/").get_data(as_text=True)
    assert "ACME Ltd" in listing and "Globex Corporation" in listing
    assert ">Dashboard<" not in listing  # no tenant chosen yet: only the support area
    assert client.get("/connections/").status_code == 403

    view_as_support(client, "acme")
    dashboard = client.get("/")
    page = dashboard.get_data(as_text=True)
    assert dashboard.status_code == 200
    assert "You are viewing ACME Ltd as support staff. Everything is read-only." in page
    assert 'data-testid="tenant-name">ACME Ltd<' in page
    assert "Ping the worker" not in page  # nothing to press that would write
    for path in ("/connections/", "/settings/zoho-to-xero", "/settings/xero-to-zoho", "/mapping/", "/sync/",
                 "/audit/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "You are viewing ACME Ltd as support staff." in response.get_data(as_text=True)

    response = post_form(client, "/support/leave", page="/")
    assert response.headers["Location"] == "/support/"
    assert "You are viewing" not in client.get("/support/").get_data(as_text=True)
    assert client.get("/mapping/").status_code == 403


def test_support_staff_cannot_write_anything_anywhere(app, client, acme, acme_owner, acme_admin, support_agent):
    invitation = accounts.invite_user(acme, acme_owner, "ines@acme.example", Role.ADMIN).invitation
    real_values = {"user_id": acme_admin.id, "invitation_id": invitation.id, "slug": "acme"}
    sign_in(client, support_agent)
    view_as_support(client, "acme")
    token = csrf_token(client, "/")
    refused = []
    for rule in rules(app, WRITE_METHODS):
        if rule.endpoint in SUPPORT_ALLOWED_WRITES:
            continue
        url = url_for_rule(app, rule, {k: v for k, v in real_values.items() if k in rule.arguments})
        for method in sorted(rule.methods & WRITE_METHODS):
            response = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            assert response.status_code == 403, f"support could {method} {url}: {response.status_code}"
            refused.append(rule.endpoint)
    assert {"account.invite", "account.remove_user", "account.revoke_invitation", "dashboard.ping_worker",
            "account.update_tenant_language"} <= set(refused)
    db.session.expire_all()
    assert db.session.get(User, acme_admin.id) is not None
    assert db.session.get(Invitation, invitation.id).revoked_at is None
    assert "You are viewing ACME Ltd as support staff." in client.get("/").get_data(as_text=True)


def test_the_writes_support_staff_may_make_are_about_themselves(app, client, acme, support_agent):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= SUPPORT_ALLOWED_WRITES, "the allow-list names a route that does not exist"
    assert all(endpoint.split(".")[0] in {"auth", "account", "support"} for endpoint in SUPPORT_ALLOWED_WRITES)
    sign_in(client, support_agent)
    assert post_form(client, "/account/language", {"locale": "fr"}, page="/support/").status_code == 302
    assert "Toutes les entreprises" in client.get("/support/").get_data(as_text=True)
    view_as_support(client, "acme")
    assert post_form(client, "/logout").status_code == 302
    assert client.get("/support/").status_code == 302


# --- tenant isolation ----------------------------------------------------------------------------------------


@pytest.fixture
def globex_objects(globex, globex_owner):
    """For each URL argument that names a tenant-owned object: the id of one of Globex's."""
    invitation = accounts.invite_user(globex, globex_owner, "hans@globex.example", Role.ADMIN).invitation
    version = save_mapping(db.session(), globex.id, default_mapping(CUSTOMERS_FROM_ACCOUNTS), user_id=globex_owner.id)
    db.session.commit()
    version_id = db.session.scalar(select(MappingVersion.id).where(MappingVersion.tenant_id == globex.id,
                                                                   MappingVersion.version == version.version))
    send = inbound.store_one(globex.id, "zoho", inbound.NewEvent(kind="send_portal", module="Invoices",
                                                                 record_ids=["1"], dedupe_key="send:globex"))
    return {"user_id": globex_owner.id, "invitation_id": invitation.id, "slug": "globex", "version_id": version_id,
            "event_id": send.id}


def test_no_tenant_url_reaches_another_tenants_objects(app, client, acme_owner, globex_objects):
    sign_in(client, acme_owner)
    token = csrf_token(client, "/")
    tried = 0
    for rule in rules(app):
        arguments = set(rule.arguments) - set(CHOICE_ARGUMENTS)
        if not arguments or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        unknown = arguments - set(globex_objects)
        assert not unknown, f"{rule.rule}: add to globex_objects how to find another tenant's {unknown}"
        values = {**CHOICE_ARGUMENTS, **globex_objects}
        url = url_for_rule(app, rule, {name: values[name] for name in rule.arguments})
        for method in sorted(rule.methods & ({"GET"} | WRITE_METHODS)):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code in (403, 404), f"{method} {url} answered {response.status_code}"
            tried += 1
    assert tried >= 3
    db.session.expire_all()
    assert db.session.get(User, globex_objects["user_id"]) is not None
    assert db.session.get(Invitation, globex_objects["invitation_id"]).revoked_at is None


def test_the_team_page_shows_only_this_tenants_people(client, acme_owner, acme_admin, globex_objects):
    sign_in(client, acme_owner)
    team = client.get("/account/team").get_data(as_text=True)
    assert "adam@acme.example" in team
    assert "greta@globex.example" not in team and "hans@globex.example" not in team


def test_admins_manage_their_tenant_but_not_its_people(client, acme_admin):
    sign_in(client, acme_admin)
    assert client.get("/").status_code == 200
    assert client.get("/mapping/").status_code == 200
    assert client.get("/account/team").status_code == 403
    assert client.get("/support/").status_code == 403
    assert post_form(client, "/account/team/language", {"default_locale": "de"}).status_code == 403


def test_roles_are_named_in_the_users_language(client, acme_owner):
    sign_in(client, acme_owner)
    post_form(client, "/account/language", {"locale": "de"})
    team = client.get("/account/team").get_data(as_text=True)
    assert ">Inhaber<" in team
    db.session.refresh(acme_owner)
    assert acme_owner.locale == "de"


def test_a_support_user_with_a_weak_password_is_refused_clearly(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create-support", "--email", "sue@support.example", "--password", "short"]
    )
    assert result.exit_code != 0
    assert "Choose a password of at least 10 characters." in result.output
    assert accounts.find_user_by_email("sue@support.example") is None


def test_a_tenant_and_its_first_owner_are_created_from_the_command_line(app, client):
    result = app.test_cli_runner().invoke(args=[
        "tenant", "create", "--slug", "initech", "--name", "Initech", "--owner-email", "bill@initech.example",
        "--owner-password", "a long enough password", "--locale", "fr",
    ])
    assert result.exit_code == 0, result.output
    bill = accounts.find_user_by_email("bill@initech.example")
    assert bill.is_owner and bill.tenant.name == "Initech" and bill.tenant.default_locale == "fr"
    sign_in(client, bill, password="a long enough password")
    assert "Initech" in client.get("/").get_data(as_text=True)
    taken = app.test_cli_runner().invoke(args=[
        "tenant", "create", "--slug", "initech", "--name", "Other", "--owner-email", "x@initech.example",
        "--owner-password", "a long enough password",
    ])
    assert taken.exit_code != 0 and "already exists" in taken.output
