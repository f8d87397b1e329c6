"""Support staff's looks at a tenant are logged, and the tenant's owners can read the log."""

from __future__ import annotations

from tests.conftest import post_form, sign_in


def test_every_support_view_of_a_tenant_is_logged_for_its_owners(app, client, support_agent, acme_owner, globex):
    sign_in(client, support_agent)
    post_form(client, "/support/tenants/acme/view", page="/support/")
    assert client.get("/").status_code == 200
    assert client.get("/connections/").status_code == 200
    # Polling the page already open is part of the same look.
    client.get("/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"})
    # The support area itself is not the tenant's data.
    client.get("/support/")

    owner = app.test_client()
    sign_in(owner, acme_owner)
    page = owner.get("/account/support-access").get_data(as_text=True)
    assert page.count("sam@support.example") == 2
    assert "<code>/connections/</code>" in page and "<code>/</code>" in page


def test_only_owners_read_the_support_access_log(client, acme_admin):
    sign_in(client, acme_admin)
    assert client.get("/account/support-access").status_code == 403
