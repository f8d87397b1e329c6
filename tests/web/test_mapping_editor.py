"""The mapping editor: add, reorder, remove, reset, direction, options (picklist maps, transforms, fixed values),
incompatible pairs refused with the engine's reason, versions saved and pinned, tenant isolation, read-only
support staff."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import MappingDraft, MappingVersion
from portal.sync import mapping_defaults as defaults
from portal.sync.mapping_store import load_mappings
from tests.conftest import csrf_token, sign_in
from tests.web.forms import BrowserForm

HTMX = {"HX-Request": "true"}
ACCOUNTS = "accounts-contacts"


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def keys(response) -> list[str]:
    """The pairs in the order the editor shows them."""
    raw = response.get_data(as_text=True)
    return [html.unescape(key) for key in re.findall(r'data-testid="rule" data-rule="([^"]*)"', raw)]


def row(page: str, key: str) -> str:
    """The HTML of one pair's row."""
    start = page.index(f'data-rule="{key}"')
    ends = [i for i in (page.find('data-testid="rule"', start), page.find("</form>", start)) if i != -1]
    return page[start:min(ends)]


def step(client, slug: str, action: str, data: dict[str, Any] | None = None, htmx: bool = True, **query: str):
    path = f"/mapping/{slug}/{action}"
    token = csrf_token(client, f"/mapping/{slug}")
    return client.post(path, data={"csrf_token": token, **(data or {})}, query_string=query,
                       headers=HTMX if htmx else {})


def add(client, slug: str, zoho: str, xero: str, arrow: str = "<->", fixed: str = "", htmx: bool = True):
    return step(client, slug, "add", {"zoho": zoho, "xero": xero, "arrow": arrow, "fixed": fixed}, htmx=htmx)


def draft_rules(tenant, pair: str) -> list[str]:
    db.session.expire_all()
    draft = db.session.scalar(select(MappingDraft).where(MappingDraft.tenant_id == tenant.id,
                                                         MappingDraft.pair == pair))
    if draft is None:
        return []
    return ["+".join(r["zoho"]) + "|" + r["xero"] if r["zoho"] else "=" + repr(r.get("fixed")) + "|" + r["xero"]
            for r in draft.rules["rules"]]


def versions(tenant, pair: str) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(MappingVersion.version).where(
        MappingVersion.tenant_id == tenant.id, MappingVersion.pair == pair).order_by(MappingVersion.version)))


@pytest.fixture
def admin(client, acme_admin, remote):
    """An admin of a tenant whose Zoho org has custom fields (VAT_Number, Customer_Tier)."""
    remote.connect(acme_admin.tenant)
    sign_in(client, acme_admin)
    return acme_admin


def test_the_editor_shows_the_default_pairs_and_both_sides_fields(client, admin):
    response = client.get(f"/mapping/{ACCOUNTS}")
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    page = text(response)
    assert "<html" in page and "Default mapping" in page and "no custom version saved yet" in page
    assert keys(response) == [r.key for r in defaults.DEFAULT_RULES[defaults.CUSTOMERS_FROM_ACCOUNTS]]
    assert 'data-testid="zoho-field-VAT_Number"' in page and "custom" in page
    assert "From your Zoho CRM org, read" in page
    assert 'data-testid="xero-field-TaxNumber"' in page
    # Each pair shows its direction (pressed button) and the compatibility of its types.
    phone = row(page, "Phone|Phones[PhoneType=DEFAULT].PhoneNumber")
    assert 'aria-pressed="true" title="Both ways">↔' in phone and "phone ↔ phone" in phone and "Compatible" in phone
    # Built-in pairs (the record id kept in Xero) cannot be removed.
    record_id = row(page, "id|ContactNumber")
    assert "built in" in record_id and "Remove" not in record_id
    fragment = client.get(f"/mapping/{ACCOUNTS}", headers=HTMX)
    assert "<html" not in text(fragment) and text(fragment).strip().startswith('<div id="mapping-editor"')
    assert "HX-Request" in fragment.headers["Vary"]


def test_without_a_connection_the_standard_fields_are_offered(client, acme_admin):
    sign_in(client, acme_admin)
    page = text(client.get("/mapping/products-items"))
    assert "Standard fields: connect Zoho CRM to see your custom fields and picklists." in page
    assert 'data-testid="zoho-field-Product_Code"' in page and "VAT_Number" not in page


def test_mapping_opens_on_the_customer_pair_of_the_tenants_choice(client, admin):
    response = client.get("/mapping/")
    assert response.status_code == 200 and "Zoho CRM Accounts" in text(response)
    assert f'href="/mapping/{ACCOUNTS}" aria-current="page"' in text(response)


def test_adding_a_custom_field_pair_goes_into_the_draft_not_into_syncs(client, admin):
    response = add(client, ACCOUNTS, "VAT_Number", "TaxNumber", "->")
    assert response.status_code == 200, text(response)[:2000]
    assert keys(response)[-1] == "VAT_Number|TaxNumber"
    page = text(response)
    assert "Pair added." in page and "Unsaved changes." in page
    assert "VAT_Number|TaxNumber" in draft_rules(admin.tenant, defaults.CUSTOMERS_FROM_ACCOUNTS)
    assert versions(admin.tenant, defaults.CUSTOMERS_FROM_ACCOUNTS) == []  # syncs still use the default
    assert add(client, ACCOUNTS, "VAT_Number", "TaxNumber", "->").status_code == 422  # the same pair twice


@pytest.mark.parametrize(
    ("zoho", "xero", "arrow", "reason"),
    [
        ("Parent_Account", "Name", "->", "A lookup can only be paired with a linked record, not with a plain value."),
        ("Outstanding_Balance", "Name", "<->", "A text value cannot go into a number field."),
        ("Account_Name", "Balances.AccountsReceivable.Outstanding", "->",
         "Xero computes Balances.AccountsReceivable.Outstanding itself: it cannot be written."),
        ("Website", "Name", "->", "Name is already filled by another pair."),
        ("No_Such_Field", "Name", "->", "The Zoho field No_Such_Field does not exist."),
        ("", "Name", "->", "Choose a Zoho CRM field and a Xero field."),
    ],
)
def test_incompatible_pairs_are_refused_with_the_engines_reason_in_place(client, admin, zoho, xero, arrow, reason):
    response = add(client, ACCOUNTS, zoho, xero, arrow)
    assert response.status_code == 422
    page = text(response)
    assert f'<p id="add-pair-error" class="flash flash-error" role="alert" data-testid="add-error">{reason}</p>' in page
    assert 'aria-invalid="true"' in page
    form = BrowserForm(response.get_data(as_text=True), "add-pair")  # what the user chose stays chosen
    assert form.get("xero") == xero and form.get("arrow") == arrow
    assert draft_rules(admin.tenant, defaults.CUSTOMERS_FROM_ACCOUNTS) == []


def test_without_javascript_a_step_redirects_back_and_a_refusal_shows_the_page(client, admin):
    response = add(client, ACCOUNTS, "VAT_Number", "TaxNumber", "->", htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/mapping/{ACCOUNTS}")
    assert "Pair added." in text(client.get(f"/mapping/{ACCOUNTS}"))
    refused = add(client, ACCOUNTS, "Parent_Account", "Name", "->", htmx=False)
    assert refused.status_code == 422 and "<html" in text(refused)
    assert "A lookup can only be paired with a linked record" in text(refused)


def test_pairs_are_removed_moved_and_reordered_on_the_server(client, admin):
    pair = defaults.CUSTOMERS_FROM_ACCOUNTS
    default_keys = [r.key for r in defaults.DEFAULT_RULES[pair]]
    unmoved = step(client, ACCOUNTS, "order", {"rule": default_keys})  # picked up and dropped in place
    assert unmoved.status_code == 200 and "Unsaved changes." not in text(unmoved)
    assert draft_rules(admin.tenant, pair) == []
    removed = step(client, ACCOUNTS, "remove", {"target": "Fax|Phones[PhoneType=FAX].PhoneNumber"})
    assert removed.status_code == 200 and "Fax|Phones[PhoneType=FAX].PhoneNumber" not in keys(removed)
    assert step(client, ACCOUNTS, "remove", {"target": "id|ContactNumber"}).status_code == 422  # built in
    moved = step(client, ACCOUNTS, "move", {"target": "Website|Website"}, to="up")
    assert keys(moved)[:5] == ["Account_Name|Name", "id|ContactNumber", "Account_Number|AccountNumber",
                               "Website|Website", "Phone|Phones[PhoneType=DEFAULT].PhoneNumber"]
    step(client, ACCOUNTS, "move", {"target": "Account_Name|Name"}, to="up")  # already first: stays
    dragged = list(reversed(keys(moved)))  # what SortableJS posts after a drag: every pair, in the new order
    reordered = step(client, ACCOUNTS, "order", {"rule": dragged})
    assert reordered.status_code == 200 and keys(reordered) == dragged
    assert draft_rules(admin.tenant, pair) == dragged
    # A page that no longer matches the draft (another window removed a pair) is told so, nothing changes.
    stale = step(client, ACCOUNTS, "order", {"rule": default_keys})
    assert stale.status_code == 409 and "The mapping changed in another window" in text(stale)
    assert draft_rules(admin.tenant, pair) == dragged
    assert step(client, ACCOUNTS, "remove", {"target": "Fax|Phones[PhoneType=FAX].PhoneNumber"}).status_code == 409


def test_the_direction_changes_and_one_that_cannot_work_is_refused(client, admin):
    response = step(client, ACCOUNTS, "arrow", {"target": "Phone|Phones[PhoneType=DEFAULT].PhoneNumber"}, arrow="->")
    assert response.status_code == 200
    phone = row(text(response), "Phone|Phones[PhoneType=DEFAULT].PhoneNumber")
    assert 'aria-pressed="true" title="Zoho CRM to Xero">→' in phone
    add(client, ACCOUNTS, "Account_Name", "Balances.AccountsReceivable.Overdue", "<-")
    refused = step(client, ACCOUNTS, "arrow", {"target": "Account_Name|Balances.AccountsReceivable.Overdue"},
                   arrow="<->")
    assert refused.status_code == 422
    assert "Xero computes Balances.AccountsReceivable.Overdue itself: it cannot be written." in text(refused)
    # A name joined from two fields cannot be split again on the way back.
    joined = step(client, "contacts-contacts", "arrow", {"target": "First_Name+Last_Name|Name"}, arrow="<->")
    assert joined.status_code == 422
    assert "Joined fields cannot be split again: this pair can only go from Zoho to Xero." in text(joined)


def test_picklist_values_map_value_by_value(client, admin):
    add(client, ACCOUNTS, "Customer_Tier", "ContactStatus", "->")
    key = "Customer_Tier|ContactStatus"
    options = client.get(f"/mapping/{ACCOUNTS}/rule", query_string={"rule": key}, headers=HTMX)
    assert options.status_code == 200 and "<html" not in text(options)
    form = BrowserForm(options.get_data(as_text=True), "rule-form")
    assert [form.get(f"values-{i}-zoho") for i in range(3)] == ["Gold", "Silver", "Bronze"]  # the org's values
    form.set(**{"values-0-xero": "ACTIVE", "values-1-xero": "ACTIVE", "values-2-xero": "ARCHIVED"})
    saved = client.post(f"/mapping/{ACCOUNTS}/rule", data=form.data(), headers=HTMX)
    assert saved.status_code == 200, text(saved)[:2000]
    assert saved.headers["HX-Retarget"] == "#mapping-editor"  # the whole editor comes back
    assert "3 picklist values mapped" in text(saved)
    draft = db.session.scalar(select(MappingDraft))
    rule = next(r for r in draft.rules["rules"] if r["xero"] == "ContactStatus")
    assert rule["values"] == {"Gold": "ACTIVE", "Silver": "ACTIVE", "Bronze": "ARCHIVED"}
    # Coming back from Xero, a value must exist in the Zoho picklist.
    form = BrowserForm(client.get(f"/mapping/{ACCOUNTS}/rule", query_string={"rule": key}).get_data(as_text=True),
                       "rule-form")
    form.set(arrow="<->", **{"values-3-zoho": "Platinum", "values-3-xero": "ACTIVE"})
    refused = client.post(f"/mapping/{ACCOUNTS}/rule", data=form.data(), headers=HTMX)
    assert refused.status_code == 422
    assert "Platinum is not a value of the Zoho picklist." in text(refused)
    assert 'data-testid="rule-error"' in text(refused) and "HX-Retarget" not in refused.headers


def test_xero_values_are_offered_and_others_refused(client, admin):
    add(client, ACCOUNTS, "Customer_Tier", "ContactStatus", "->")
    key = "Customer_Tier|ContactStatus"
    page = client.get(f"/mapping/{ACCOUNTS}/rule", query_string={"rule": key})
    assert "Xero takes: ACTIVE, ARCHIVED, GDPRREQUEST." in text(page)
    assert re.search(r'<input id="values-0-xero" list="r\w+-xero-values"', text(page))
    form = BrowserForm(page.get_data(as_text=True), "rule-form").set(**{"values-0-xero": "GOLD"})
    refused = client.post(f"/mapping/{ACCOUNTS}/rule", data=form.data(), headers=HTMX)
    assert refused.status_code == 422
    assert "GOLD is not a value Xero takes for ContactStatus." in text(refused)


def test_a_transform_from_the_safe_list_and_a_join(client, admin):
    key = "Product_Name|Name"
    form = BrowserForm(client.get("/mapping/products-items/rule", query_string={"rule": key}).get_data(as_text=True),
                       "rule-form")
    assert form.get("transform") == "truncate" and form.get("arg_truncate") == "50"
    ok = client.post("/mapping/products-items/rule", data=form.set(arg_truncate="30").data(), headers=HTMX)
    assert ok.status_code == 200 and "Cut to a maximum length, 30" in text(ok)
    unknown = client.post("/mapping/products-items/rule", data=form.set(transform="eval").data(), headers=HTMX)
    assert unknown.status_code == 422 and "Choose a transform from the list." in text(unknown)
    # Join two Zoho fields into one Xero field (one way only).
    add(client, ACCOUNTS, "Billing_City", "Addresses[AddressType=STREET].AttentionTo", "->")
    key = "Billing_City|Addresses[AddressType=STREET].AttentionTo"
    form = BrowserForm(client.get(f"/mapping/{ACCOUNTS}/rule", query_string={"rule": key}).get_data(as_text=True),
                       "rule-form")
    missing = client.post(f"/mapping/{ACCOUNTS}/rule", data=form.set(transform="join").data(), headers=HTMX)
    assert missing.status_code == 422 and "Choose the Zoho CRM fields to join with Billing_City." in text(missing)
    joined = client.post(f"/mapping/{ACCOUNTS}/rule", data={**form.data(), "extra_zoho": ["Billing_Country"]},
                         headers=HTMX)
    assert joined.status_code == 200, text(joined)[:2000]
    assert "Billing_City+Billing_Country|Addresses[AddressType=STREET].AttentionTo" in keys(joined)


def test_fixed_values_go_one_way(client, admin):
    response = add(client, ACCOUNTS, "=", "ContactStatus", fixed="ACTIVE")
    assert response.status_code == 200, text(response)[:2000]
    assert '=ACTIVE|ContactStatus' not in keys(response)  # the key holds the JSON of the value
    assert '="ACTIVE"|ContactStatus' in keys(response)
    assert "fixed value “ACTIVE”" in text(response)
    assert add(client, ACCOUNTS, "=", "Website", fixed="").status_code == 422
    to_zoho = add(client, ACCOUNTS, "Customer_Tier", "=", fixed="Gold")
    assert to_zoho.status_code == 200 and 'Customer_Tier|' in keys(to_zoho)


def test_reset_to_default_then_save_makes_a_version(client, admin):
    pair = defaults.CUSTOMERS_FROM_ACCOUNTS
    add(client, ACCOUNTS, "VAT_Number", "TaxNumber", "->")
    saved = step(client, ACCOUNTS, "save")
    assert saved.status_code == 200 and saved.headers["HX-Trigger"] == "mappingSaved"
    assert "Version 1 saved." in text(saved) and 'data-testid="version">Version 1</strong>' in text(saved)
    assert versions(admin.tenant, pair) == [1] and draft_rules(admin.tenant, pair) == []
    reset = step(client, ACCOUNTS, "reset")
    assert reset.status_code == 200 and "VAT_Number|TaxNumber" not in keys(reset)
    assert "The default mapping is back in the editor." in text(reset)
    assert versions(admin.tenant, pair) == [1]  # nothing changes for syncs until it is saved
    assert step(client, ACCOUNTS, "save").status_code == 200
    assert versions(admin.tenant, pair) == [1, 2]
    history = text(client.get(f"/mapping/{ACCOUNTS}"))
    assert re.search(r"Version 2</a> · .* · Adam Admin · <strong>in use</strong>", history)
    assert step(client, ACCOUNTS, "save").status_code == 422  # no changes to save


def test_a_pair_with_a_problem_blocks_the_save(client, admin, remote):
    remote.custom_fields["Accounts"] = []
    from portal.services import metadata

    metadata.refresh(admin.tenant)  # the org lost VAT_Number after the pair was added
    remote.custom_fields["Accounts"] = [defaults.ZOHO_FIELDS["Accounts"][0]]
    db.session.add(MappingDraft(tenant_id=admin.tenant_id, pair=defaults.CUSTOMERS_FROM_ACCOUNTS, base_version=0,
                                rules={"rules": [{"zoho": ["VAT_Number"], "xero": "TaxNumber", "arrow": "->"}]}))
    db.session.commit()
    page = text(client.get(f"/mapping/{ACCOUNTS}"))
    assert "The Zoho field VAT_Number does not exist." in page
    refused = step(client, ACCOUNTS, "save")
    assert refused.status_code == 422
    assert "Fix or remove the pairs marked with a problem before saving." in text(refused)
    assert versions(admin.tenant, defaults.CUSTOMERS_FROM_ACCOUNTS) == []


def test_saving_never_changes_a_run_in_progress(client, admin):
    pair = defaults.CUSTOMERS_FROM_ACCOUNTS
    add(client, ACCOUNTS, "VAT_Number", "TaxNumber", "->")
    step(client, ACCOUNTS, "save")
    pins = load_mappings(db.session, admin.tenant_id).pins()  # a run starts: it pins version 1
    assert pins == {pair: 1}
    step(client, ACCOUNTS, "remove", {"target": "VAT_Number|TaxNumber"})
    step(client, ACCOUNTS, "save")
    db.session.expire_all()
    running = load_mappings(db.session, admin.tenant_id, pins=pins).get(pair)
    assert running.version == 1 and "VAT_Number|TaxNumber" in [r.key for r in running.rules]
    latest = load_mappings(db.session, admin.tenant_id).get(pair)
    assert latest.version == 2 and "VAT_Number|TaxNumber" not in [r.key for r in latest.rules]


def test_an_old_version_can_be_viewed_and_brought_back(client, admin):
    add(client, ACCOUNTS, "VAT_Number", "TaxNumber", "->")
    step(client, ACCOUNTS, "save")
    step(client, ACCOUNTS, "reset")
    step(client, ACCOUNTS, "save")
    first = db.session.scalar(select(MappingVersion).where(MappingVersion.version == 1))
    page = client.get(f"/mapping/{ACCOUNTS}/versions/{first.id}")
    assert page.status_code == 200 and "VAT_Number" in text(page)
    restored = step(client, ACCOUNTS, f"versions/{first.id}/restore", htmx=False)
    assert restored.status_code == 303
    editor = text(client.get(f"/mapping/{ACCOUNTS}"))
    assert "Version 1 is in the editor. Save it to use it again." in editor and "Unsaved changes." in editor
    assert client.get(f"/mapping/products-items/versions/{first.id}").status_code == 404  # another pair's page


def test_refresh_reads_the_metadata_again(client, admin, remote):
    client.get(f"/mapping/{ACCOUNTS}")
    assert remote.calls["zoho fields Accounts"] == 1
    remote.custom_fields["Accounts"].append(defaults.ZOHO_FIELDS["Accounts"][0].__class__(
        "Region_Code", "text", label="Region Code", custom=True))
    response = client.post("/mapping/refresh", headers=HTMX,
                           data={"csrf_token": csrf_token(client, f"/mapping/{ACCOUNTS}"), "pair": ACCOUNTS})
    assert response.status_code == 200
    assert "Fields and settings were read again from Zoho CRM and Xero." in text(response)
    assert 'data-testid="zoho-field-Region_Code"' in text(response)
    assert remote.calls["zoho fields Accounts"] == 2


def test_another_tenants_versions_are_not_found(client, admin, globex_owner, app):
    other = app.test_client()
    sign_in(other, globex_owner)
    add(other, ACCOUNTS, "Account_Name", "Addresses[AddressType=STREET].AttentionTo", "->")
    step(other, ACCOUNTS, "save")
    theirs = db.session.scalar(select(MappingVersion).where(MappingVersion.tenant_id == globex_owner.tenant_id))
    assert client.get(f"/mapping/{ACCOUNTS}/versions/{theirs.id}").status_code == 404
    assert step(client, ACCOUNTS, f"versions/{theirs.id}/restore").status_code == 404
    assert client.get("/mapping/no-such-pair").status_code == 404
    assert client.get(f"/mapping/{ACCOUNTS}/rule", query_string={"rule": "Nope|Nope"}).status_code == 404
    assert "AttentionTo" not in " ".join(keys(client.get(f"/mapping/{ACCOUNTS}")))  # their draft/version is theirs


POSTS = ["add", "remove", "move", "arrow", "order", "reset", "discard", "save", "rule", "versions/1/restore"]


def test_support_staff_see_the_editor_read_only_and_every_post_is_refused(client, acme_admin, support_agent, app):
    from portal.services.access import VIEWED_TENANT_KEY

    owner = app.test_client()
    sign_in(owner, acme_admin)
    add(owner, ACCOUNTS, "Account_Name", "Addresses[AddressType=STREET].AttentionTo", "->")
    step(owner, ACCOUNTS, "save")
    sign_in(client, support_agent)
    with client.session_transaction() as session:
        session[VIEWED_TENANT_KEY] = acme_admin.tenant_id
    response = client.get(f"/mapping/{ACCOUNTS}")
    assert response.status_code == 200
    page = text(response)
    assert "Version 1" in page and 'id="add-pair"' not in page and "Remove" not in page
    assert "Save mapping" not in page and "Refresh now" not in page
    version_id = db.session.scalar(select(MappingVersion.id))
    assert client.get(f"/mapping/{ACCOUNTS}/versions/{version_id}").status_code == 200
    token = csrf_token(client, f"/mapping/{ACCOUNTS}")
    for action in [*POSTS, f"versions/{version_id}/restore"]:
        for headers in ({}, HTMX):
            refused = client.post(f"/mapping/{ACCOUNTS}/{action}", headers=headers,
                                  data={"csrf_token": token, "target": "Account_Name|Name", "zoho": "Phone",
                                        "xero": "Name", "rule": "Account_Name|Name"})
            assert refused.status_code == 403, action
    assert client.post("/mapping/refresh", data={"csrf_token": token, "pair": ACCOUNTS}).status_code == 403
    assert versions(acme_admin.tenant, defaults.CUSTOMERS_FROM_ACCOUNTS) == [1]
