"""Owners invite people by emailed link with a role, and remove them; admins can do neither."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from portal.extensions import db
from portal.models import Invitation, User, utcnow
from portal.services import accounts
from tests.conftest import post_form, sign_in

INVITE_PAGE = "/account/team"


def invite(client, email, role="admin"):
    return post_form(client, "/account/team/invitations", {"email": email, "role": role}, page=INVITE_PAGE)


def link_in(message):
    match = re.search(r"https?://\S+/invitations/\S+", message.body)
    assert match, message.body
    return match.group(0)


def accept(client, link, name="Ines Invited", password="a long enough password"):
    path = urlsplit(link).path
    return post_form(client, path, {"name": name, "password": password, "confirm": password}, page=path)


def test_an_owner_invites_by_emailed_link_and_the_invitee_joins_signed_in(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    response = invite(client, "Ines@Acme.example", role="admin")
    assert response.status_code == 302
    assert "Invitation sent to ines@acme.example." in client.get(INVITE_PAGE).get_data(as_text=True)

    assert len(outbox) == 1
    mail = outbox[0]
    assert mail.to == ["ines@acme.example"]
    assert mail.subject == "You are invited to ACME Ltd"
    assert "Olivia Owner invites you to manage ACME Ltd" in mail.body and "as Admin" in mail.body
    link = link_in(mail)
    # Links in mail are built on PUBLIC_URL, never on whatever Host header the request carried.
    assert link.startswith("http://127.0.0.1:5000/invitations/")
    team = client.get(INVITE_PAGE).get_data(as_text=True)
    assert "Waiting for an answer" in team and "ines@acme.example" in team

    invitee = app.test_client()
    page = invitee.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Join ACME Ltd" in page.get_data(as_text=True)
    response = accept(invitee, link, name="Ines Invited")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    dashboard = invitee.get("/").get_data(as_text=True)
    assert "Welcome to ACME Ltd." in dashboard
    assert "Ines Invited" in dashboard and "ACME Ltd" in dashboard
    # The role of the invitation, not more: an admin has no team page.
    assert invitee.get(INVITE_PAGE).status_code == 403

    joined = accounts.find_user_by_email("ines@acme.example")
    assert joined is not None and joined.role == "admin" and joined.tenant_id == acme_owner.tenant_id
    team = client.get(INVITE_PAGE).get_data(as_text=True)
    assert "Waiting for an answer" not in team and "Ines Invited" in team


def test_an_owner_can_invite_another_owner(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    invite(client, "otto@acme.example", role="owner")
    invitee = app.test_client()
    accept(invitee, link_in(outbox[0]), name="Otto Owner")
    assert invitee.get(INVITE_PAGE).status_code == 200


def test_a_used_link_is_refused(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    invite(client, "ines@acme.example")
    link = link_in(outbox[0])
    accept(app.test_client(), link)
    second = app.test_client()
    response = second.get(urlsplit(link).path)
    assert response.status_code == 410
    assert "This link is no longer valid" in response.get_data(as_text=True)
    assert accept(second, link, name="Mallory").status_code in (400, 410)
    assert db.session.scalar(select(User).where(User.name == "Mallory")) is None


def test_an_expired_link_is_refused(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    invite(client, "ines@acme.example")
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(urlsplit(link_in(outbox[0])).path).status_code == 410


def test_a_revoked_link_is_refused(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    invite(client, "ines@acme.example")
    invitation = db.session.scalar(select(Invitation))
    response = post_form(client, f"/account/team/invitations/{invitation.id}/revoke", page=INVITE_PAGE)
    assert response.status_code == 302
    assert "Invitation revoked." in client.get(INVITE_PAGE).get_data(as_text=True)
    assert app.test_client().get(urlsplit(link_in(outbox[0])).path).status_code == 410


def test_inviting_again_revokes_the_older_link(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    invite(client, "ines@acme.example")
    invite(client, "ines@acme.example", role="owner")
    first, second = link_in(outbox[0]), link_in(outbox[1])
    assert app.test_client().get(urlsplit(first).path).status_code == 410
    invitee = app.test_client()
    assert accept(invitee, second).status_code == 302
    assert accounts.find_user_by_email("ines@acme.example").role == "owner"
    team = client.get(INVITE_PAGE).get_data(as_text=True)
    assert "Waiting for an answer" not in team


def test_a_bad_password_keeps_the_invitation_open(app, client, acme_owner, outbox):
    sign_in(client, acme_owner)
    invite(client, "ines@acme.example")
    link = link_in(outbox[0])
    invitee = app.test_client()
    response = accept(invitee, link, password="short")
    assert response.status_code == 422
    assert "Field must be at least 10 characters long." in response.get_data(as_text=True)
    assert accept(invitee, link).status_code == 302


def test_people_who_already_have_an_account_cannot_be_invited(client, acme_owner, globex_owner, outbox):
    sign_in(client, acme_owner)
    response = invite(client, globex_owner.email)
    assert response.status_code == 422
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert outbox == []


def test_an_invalid_address_is_refused_in_place(client, acme_owner, outbox):
    sign_in(client, acme_owner)
    response = invite(client, "not an address")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert outbox == []


def test_the_invitation_mail_is_in_the_tenants_language(app, client, globex_owner, outbox):
    sign_in(client, globex_owner)
    invite(client, "hans@globex.example")
    assert outbox[0].subject == "Sie sind zu Globex Corporation eingeladen"
    assert "Greta Owner lädt Sie ein" in outbox[0].body


def test_an_admin_cannot_invite_nor_see_the_team(client, acme_admin, outbox):
    sign_in(client, acme_admin)
    assert client.get(INVITE_PAGE).status_code == 403
    response = post_form(client, "/account/team/invitations", {"email": "x@acme.example", "role": "owner"})
    assert response.status_code == 403
    assert outbox == []
    assert db.session.scalar(select(Invitation)) is None
    # and the user menu offers no team page
    assert 'href="/account/team"' not in client.get("/").get_data(as_text=True)


def test_an_owner_removes_a_user_who_is_then_signed_out(app, client, acme_owner, acme_admin):
    adam = app.test_client()
    sign_in(adam, acme_admin)
    sign_in(client, acme_owner)
    response = post_form(client, f"/account/team/users/{acme_admin.id}/remove", page=INVITE_PAGE)
    assert response.status_code == 302
    assert "adam@acme.example no longer has access." in client.get(INVITE_PAGE).get_data(as_text=True)
    assert adam.get("/").status_code == 302
    assert accounts.find_user_by_email("adam@acme.example") is None


def test_an_owner_cannot_remove_themselves_so_a_tenant_keeps_an_owner(client, acme_owner, acme_admin):
    sign_in(client, acme_owner)
    team = client.get(INVITE_PAGE).get_data(as_text=True)
    assert f"/account/team/users/{acme_owner.id}/remove" not in team  # no button for it either
    response = post_form(client, f"/account/team/users/{acme_owner.id}/remove", page=INVITE_PAGE)
    assert response.status_code == 302
    assert "You cannot remove yourself." in client.get(INVITE_PAGE).get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert accounts.find_user_by_email(acme_owner.email).is_owner


def test_only_owners_of_the_same_tenant_remove_people(app, acme_owner, acme_admin, globex_owner):
    for actor, target in ((acme_admin, acme_owner), (globex_owner, acme_admin)):
        try:
            accounts.remove_user(actor, target)
        except accounts.AccountError as error:
            assert str(error) == "Only the tenant's owners can remove people."
        else:
            raise AssertionError(f"{actor.email} removed {target.email}")
