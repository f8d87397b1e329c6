"""Signing in and out, password changes and resets, throttling and CSRF."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.conftest import csrf_token, post_form, sign_in
from tests.factories import DEFAULT_PASSWORD


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_in_shows_the_tenant_and_navigation(client, acme_admin):
    sign_in(client, acme_admin)
    page = client.get("/").get_data(as_text=True)
    assert "ACME Ltd" in page
    for label in ("Dashboard", "Connections", "Zoho → Xero", "Xero → Zoho", "Mapping", "Sync", "Audit"):
        assert f">{label}<" in page
    assert ">Support<" not in page


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, acme_admin):
    token = csrf_token(client)
    response = client.post("/login", data={"email": acme_admin.email, "password": "nope", "csrf_token": token})
    assert response.status_code == 422
    assert "The email or password is not correct." in response.get_data(as_text=True)
    unknown = client.post("/login", data={"email": "nobody@acme.example", "password": "nope", "csrf_token": token})
    assert "The email or password is not correct." in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_out_ends_the_session(client, acme_admin):
    sign_in(client, acme_admin)
    response = post_form(client, "/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_out_by_get_is_not_possible(client, acme_admin):
    sign_in(client, acme_admin)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_forms_without_a_csrf_token_are_refused(client, acme_admin):
    response = client.post("/login", data={"email": acme_admin.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    sign_in(client, acme_admin)
    assert client.post("/logout").status_code == 400
    assert client.post("/health/ping").status_code == 400


def test_htmx_requests_carry_the_token_in_a_header(client, acme_admin):
    sign_in(client, acme_admin)
    token = csrf_token(client, "/")
    without = client.post("/health/ping", headers={"HX-Request": "true"})
    assert without.status_code == 400
    with_header = client.post("/health/ping", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert with_header.status_code == 302


def test_failed_sign_ins_are_throttled_per_account(client, acme_admin):
    token = csrf_token(client)
    for _ in range(5):
        client.post("/login", data={"email": acme_admin.email, "password": "wrong", "csrf_token": token})
    # Even the right password is refused while the account is throttled.
    response = client.post("/login", data={"email": acme_admin.email, "password": DEFAULT_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_address(client, app):
    token = csrf_token(client)
    statuses = [
        client.post("/login", data={"email": f"user{i}@acme.example", "password": "x", "csrf_token": token}).status_code
        for i in range(31)
    ]
    assert statuses[:30] == [422] * 30
    assert statuses[30] == 429


def test_successful_sign_ins_do_not_count_towards_the_throttle(client, acme_admin):
    for _ in range(7):
        sign_in(client, acme_admin)
        post_form(client, "/logout")


def test_change_password_signs_out_other_sessions(app, acme_admin):
    mine, other = app.test_client(), app.test_client()
    sign_in(mine, acme_admin)
    sign_in(other, acme_admin)
    new_password = {"current_password": DEFAULT_PASSWORD, "password": "a new long password",
                    "confirm": "a new long password"}
    response = post_form(mine, "/account/password", new_password, page="/account/")
    assert response.status_code == 302
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302
    post_form(mine, "/logout")
    sign_in(mine, acme_admin, password="a new long password")


def test_change_password_needs_the_current_one(client, acme_admin):
    sign_in(client, acme_admin)
    response = post_form(client, "/account/password", {"current_password": "wrong",
                                                       "password": "a new long password",
                                                       "confirm": "a new long password"}, page="/account/")
    assert response.status_code == 422
    assert "Your current password is not correct." in response.get_data(as_text=True)


def test_forgotten_password_is_reset_by_emailed_link_once(client, acme_admin, outbox):
    response = post_form(client, "/forgot-password", {"email": "ADAM@acme.example"}, page="/forgot-password")
    assert response.status_code == 302
    assert len(outbox) == 1 and outbox[0].to == [acme_admin.email]
    link = re.search(r"http://\S+/reset-password/\S+", outbox[0].body).group(0)
    path = urlsplit(link).path
    response = post_form(client, path, {"password": "brand new password", "confirm": "brand new password"},
                         page=path)
    assert response.status_code == 302
    sign_in(client, acme_admin, password="brand new password")
    # The link worked once; now it is spent.
    assert client.get(path).status_code == 410


def test_forgotten_password_for_an_unknown_address_looks_the_same(client, outbox, app):
    response = post_form(client, "/forgot-password", {"email": "ghost@nowhere.example"}, page="/forgot-password")
    assert response.status_code == 302
    assert outbox == []


def test_a_tampered_reset_link_is_refused(client, acme_admin):
    assert client.get("/reset-password/not-a-real-token").status_code == 410


def test_open_redirects_after_sign_in_are_refused(client, acme_admin):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.test/", data={"email": acme_admin.email,
                                                                   "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_security_headers_are_sent(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(client, acme_admin):
    token = csrf_token(client)
    response = client.post("/login", data={"email": acme_admin.email, "password": DEFAULT_PASSWORD,
                                           "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_stored_with_a_modern_kdf(acme_admin):
    assert acme_admin.password_hash.startswith("scrypt:")
    assert DEFAULT_PASSWORD not in acme_admin.password_hash


def test_reset_links_ignore_a_forged_host_header(client, acme_admin, outbox):
    forged = "http://evil.example/forgot-password"
    client.post(forged, data={"email": acme_admin.email, "csrf_token": csrf_token(client, forged)})
    assert len(outbox) == 1
    assert re.search(r"http://127\.0\.0\.1:5000/reset-password/\S+", outbox[0].body)
    assert "evil.example" not in outbox[0].body


def test_reset_mail_is_in_the_users_language(client, globex_owner, outbox):
    post_form(client, "/forgot-password", {"email": globex_owner.email}, page="/forgot-password")
    assert outbox[0].subject == "Passwort zurücksetzen"
    assert outbox[0].body.startswith("Hallo Greta Owner,")


def test_reset_mails_to_one_address_are_throttled(client, acme_admin, outbox):
    statuses = [post_form(client, "/forgot-password", {"email": acme_admin.email}, page="/forgot-password")
                .status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert len(outbox) == 3


def test_keep_me_signed_in_survives_the_browser_session_until_sign_out(client, acme_admin):
    token = csrf_token(client)
    response = client.post("/login", data={"email": acme_admin.email, "password": DEFAULT_PASSWORD,
                                           "remember": "y", "csrf_token": token})
    remember = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    client.delete_cookie("session")  # the browser was closed
    assert client.get("/").status_code == 200
    post_form(client, "/logout")
    client.delete_cookie("session")
    assert client.get("/").status_code == 302


def test_sign_out_forgets_the_tenant_support_staff_were_viewing(client, acme, support_agent, acme_admin):
    sign_in(client, support_agent)
    post_form(client, "/support/tenants/acme/view", page="/support/")
    with client.session_transaction() as session:
        assert "support_viewed_tenant_id" in session
    post_form(client, "/logout")
    with client.session_transaction() as session:
        assert "support_viewed_tenant_id" not in session


def test_signed_in_pages_are_not_kept_by_caches(client, acme_admin):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    sign_in(client, acme_admin)
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/account/").headers["Cache-Control"] == "no-store"
