"""Each module pair in both directions, custom fields and picklists, conflicts, guardrails, won deals and
payments — the engine over the port adapters against both sandboxes (issue 7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models.sync import AuditEntry, ReviewItem
from portal.services import connections
from portal.services.sync_runner import build_engine, live_connections
from portal.sync.mapping import rule
from portal.sync.mapping_defaults import CUSTOMERS_FROM_ACCOUNTS
from portal.sync.mapping_store import default_for, save_mapping
from portal.sync.settings import Direction, SyncSettings

Z2X, X2Z = Direction.ZOHO_TO_XERO, Direction.XERO_TO_ZOHO


@pytest.fixture
def apis(connected):
    linked = live_connections(connected.tenant)
    return connections.zoho_client(linked.zoho), connections.xero_client(linked.xero)


def engine(connected, **kwargs):
    return build_engine(db.session, connected.tenant, trigger="test", **kwargs)


def create_zoho(zoho, module, record):
    (result,) = zoho.create(module, [record])
    assert result.ok, result.message
    return result.remote_id


def last_audit(module, **filters):
    query = select(AuditEntry).where(AuditEntry.module == module).filter_by(**filters).order_by(AuditEntry.id.desc())
    return db.session.scalars(query).first()


def xero_contact_named(xero, name):
    return next(c for c in xero.all("Contacts") if c["Name"] == name)


def test_a_product_becomes_an_item_and_its_price_follows(connected, apis):
    zoho, xero = apis
    product_id = create_zoho(zoho, "Products", {"Product_Name": "Rope", "Product_Code": "ROPE-1",
                                                "Unit_Price": 12.5})
    engine(connected).sync_records(Z2X, "Products", [product_id])
    item = next(i for i in xero.all("Items") if i["Code"] == "ROPE-1")
    assert float(item["SalesDetails"]["UnitPrice"]) == 12.5
    zoho.update("Products", [{"id": product_id, "Unit_Price": 14}])
    engine(connected).sync_records(Z2X, "Products", [product_id])
    item = next(i for i in xero.all("Items") if i["Code"] == "ROPE-1")
    assert float(item["SalesDetails"]["UnitPrice"]) == 14


def test_a_xero_item_becomes_a_zoho_product(connected, apis):
    zoho, xero = apis
    (saved,) = xero.save("Items", [{"Code": "HAT-9", "Name": "Hat", "SalesDetails": {"UnitPrice": 30}}])
    assert saved.ok
    engine(connected).sync_records(X2Z, "Items", [saved.remote_id])
    products = zoho.search("Products", criteria="(Product_Code:equals:HAT-9)")
    assert [p["Product_Name"] for p in products] == ["Hat"]


def test_zoho_contacts_become_contact_persons_of_their_accounts_customer(connected, apis):
    zoho, xero = apis
    account_id = create_zoho(zoho, "Accounts", {"Account_Name": "Persons Ltd"})
    contact_id = create_zoho(zoho, "Contacts", {"First_Name": "Ada", "Last_Name": "Byron",
                                                "Email": "ada@persons.example", "Account_Name": {"id": account_id}})
    engine(connected).sync_records(Z2X, "Contacts", [contact_id])
    customer = xero.get("Contacts", xero_contact_named(xero, "Persons Ltd")["ContactID"])
    assert [p["EmailAddress"] for p in customer.get("ContactPersons", [])] == ["ada@persons.example"]


def test_contacts_as_customers_make_xero_contacts_from_zoho_contacts(connected, apis):
    zoho, xero = apis
    connected.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2", customer_module="Contacts"))
    contact_id = create_zoho(zoho, "Contacts", {"First_Name": "Grace", "Last_Name": "Hopper",
                                                "Email": "grace@navy.example"})
    engine(connected).sync_records(Z2X, "Contacts", [contact_id])
    contact = xero_contact_named(xero, "Grace Hopper")
    assert contact["EmailAddress"] == "grace@navy.example"


def test_a_custom_picklist_field_maps_value_by_value(connected, apis, sandbox):
    zoho, xero = apis
    org_id = live_connections(connected.tenant).zoho.remote_org_id
    sandbox.zoho.call("POST", f"orgs/{org_id}/fields", {"module": "Accounts", "label": "Customer Tier",
                                                         "data_type": "picklist",
                                                         "pick_list_values": ["Gold", "Silver"]})
    default = default_for(CUSTOMERS_FROM_ACCOUNTS, "Accounts")
    custom = replace(default, rules=(*(r for r in default.rules if r.xero != "AccountNumber"),
                                     rule("Customer_Tier", "AccountNumber", "->",
                                          values={"Gold": "TIER-G", "Silver": "TIER-S"})))
    save_mapping(db.session, connected.tenant.id, custom)
    db.session.commit()
    account_id = create_zoho(zoho, "Accounts", {"Account_Name": "Tiered Co", "Customer_Tier": "Gold"})
    engine(connected).sync_records(Z2X, "Accounts", [account_id])
    assert xero_contact_named(xero, "Tiered Co")["AccountNumber"] == "TIER-G"


def _linked_account(connected, zoho, xero, name, phone):
    account_id = create_zoho(zoho, "Accounts", {"Account_Name": name, "Phone": phone})
    engine(connected).sync_records(Z2X, "Accounts", [account_id])
    return account_id, xero_contact_named(xero, name)["ContactID"]


def _edit_both(zoho, xero, account_id, contact_id, zoho_phone, xero_phone):
    zoho.update("Accounts", [{"id": account_id, "Phone": zoho_phone}])
    (saved,) = xero.save("Contacts", [{"ContactID": contact_id,
                                       "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": xero_phone}]}])
    assert saved.ok


@pytest.mark.parametrize(("policy", "winner"), [("zoho_wins", "zoho"), ("xero_wins", "xero"),
                                                 ("newest_wins", "xero")])
def test_a_field_changed_on_both_sides_follows_the_policy(connected, apis, policy, winner):
    zoho, xero = apis
    connected.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2", conflict_policy=policy))
    account_id, contact_id = _linked_account(connected, zoho, xero, f"Policy {policy}", "100")
    _edit_both(zoho, xero, account_id, contact_id, "200", "300")  # Xero edited last
    engine(connected).sync_records(Z2X, "Accounts", [account_id])
    expected = {"zoho": "200", "xero": "300"}[winner]
    assert zoho.get("Accounts", account_id)["Phone"] == expected
    phones = xero.get("Contacts", contact_id)["Phones"]
    assert next(p["PhoneNumber"] for p in phones if p["PhoneType"] == "DEFAULT") == expected


def test_ask_me_holds_the_record_in_the_review_queue_until_an_admin_picks(connected, apis):
    zoho, xero = apis
    connected.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2", conflict_policy="ask"))
    account_id, contact_id = _linked_account(connected, zoho, xero, "Ask Me Co", "100")
    _edit_both(zoho, xero, account_id, contact_id, "200", "300")
    engine(connected).sync_records(Z2X, "Accounts", [account_id])
    assert zoho.get("Accounts", account_id)["Phone"] == "200"  # nothing overwritten yet
    item = db.session.scalar(select(ReviewItem).where(ReviewItem.status == "open"))
    assert item is not None and item.kind == "conflict"
    phone_rule = next(key for key in (f["rule"] for f in item.fields) if key.startswith("Phone|"))
    engine(connected).apply_review(item, {phone_rule: "xero"})
    assert zoho.get("Accounts", account_id)["Phone"] == "300"


def test_a_paid_invoice_is_never_edited_and_the_audit_says_why(connected, apis):
    zoho, xero = apis
    run = engine(connected)
    cursor = run.start(Z2X, ["Invoices"])
    while cursor is not None:
        cursor = run.run_chunk(cursor).cursor
    link_invoice = db.session.scalar(select(AuditEntry).where(AuditEntry.module == "Invoices",
                                                              AuditEntry.action == "created"))
    invoice = xero.get("Invoices", link_invoice.xero_id)
    if invoice["Status"] == "DRAFT":
        (saved,) = xero.save("Invoices", [{"InvoiceID": invoice["InvoiceID"], "Status": "AUTHORISED"}])
        assert saved.ok, saved.message
        invoice = xero.get("Invoices", invoice["InvoiceID"])
    (paid,) = xero.save("Payments", [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"},
                                      "Date": date.today().isoformat(), "Amount": float(invoice["AmountDue"])}],
                        method="PUT")
    assert paid.ok, paid.message
    zoho.update("Invoices", [{"id": link_invoice.zoho_id, "Subject": "Renamed after payment"}])
    engine(connected).sync_records(Z2X, "Invoices", [link_invoice.zoho_id])
    row = last_audit("Invoices", zoho_id=link_invoice.zoho_id)
    assert row.action in ("skipped", "failed") and "paid" in (row.error_text or str(row.message)).lower()
    assert xero.get("Invoices", invoice["InvoiceID"])["Status"] == "PAID"


def test_an_invoice_dated_before_the_lock_date_is_refused_with_the_reason(connected, apis, sandbox):
    _, xero = apis
    # Xero lets drafts into a locked period; approved invoices are refused (FACTS.md §4, lock dates).
    connected.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2", new_invoice_status="AUTHORISED"))
    sandbox.xero.call("POST", "orgs/uk", {"period_lock_date": (date.today() + timedelta(days=1)).isoformat()})
    run = engine(connected)
    cursor = run.start(Z2X, ["Invoices"])
    while cursor is not None:
        cursor = run.run_chunk(cursor).cursor
    # The engine knows the organisation's lock date and refuses before Xero has to: nothing is sent.
    invoices = db.session.scalars(select(AuditEntry).where(AuditEntry.module == "Invoices")).all()
    assert invoices and {(r.action, r.reason) for r in invoices} == {("skipped", "lock_date")}
    assert "lock date" in invoices[0].message["msgid"]
    assert [i for i in xero.all("Invoices", params={"page": 1}) if i["Type"] == "ACCREC" and
            i["InvoiceNumber"].startswith("INV-1")] == []


def test_a_won_deal_becomes_one_xero_invoice_only(connected, apis):
    zoho, xero = apis
    account_id = create_zoho(zoho, "Accounts", {"Account_Name": "Deal Buyer"})
    deal_id = create_zoho(zoho, "Deals", {"Deal_Name": "Big win", "Stage": "Closed Won", "Amount": 999,
                                          "Account_Name": {"id": account_id}})
    engine(connected).sync_records(Z2X, "Deals", [deal_id])
    engine(connected).sync_records(Z2X, "Deals", [deal_id], force=True)
    buyer = xero_contact_named(xero, "Deal Buyer")["ContactID"]
    invoices = [i for i in xero.all("Invoices", params={"ContactIDs": buyer})]
    assert len(invoices) == 1
    assert float(invoices[0]["Total"]) >= 999


def test_a_xero_payment_marks_the_zoho_invoice_paid(connected, apis):
    zoho, xero = apis
    customer = next(c for c in xero.all("Contacts") if c.get("ContactStatus") == "ACTIVE")
    (saved,) = xero.save("Invoices", [{"Type": "ACCREC", "Contact": {"ContactID": customer["ContactID"]},
                                       "Status": "AUTHORISED", "Date": date.today().isoformat(),
                                       "DueDate": (date.today() + timedelta(days=30)).isoformat(),
                                       "LineItems": [{"ItemCode": "TRAIN", "Quantity": 2, "UnitAmount": 100,
                                                      "TaxType": "OUTPUT2", "AccountCode": "200"}]}])
    assert saved.ok, saved.message
    engine(connected).sync_records(X2Z, "Invoices", [saved.remote_id])
    created = last_audit("Invoices", xero_id=saved.remote_id)
    assert created.action == "created", (created.action, created.error_text)
    invoice = xero.get("Invoices", saved.remote_id)
    (paid,) = xero.save("Payments", [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"},
                                      "Date": date.today().isoformat(), "Amount": float(invoice["AmountDue"])}],
                        method="PUT")
    assert paid.ok, paid.message
    payments = [p for p in xero.all("Payments") if p["Invoice"]["InvoiceID"] == invoice["InvoiceID"]]
    engine(connected).sync_batch(X2Z, "Payments", [payments[0] | {"Invoice": invoice}])
    zoho_invoice = zoho.get("Invoices", created.zoho_id)
    assert zoho_invoice["Payment_Status"] == "Paid"
    assert float(zoho_invoice["Amount_Due"]) == 0


def test_the_chart_of_accounts_reaches_the_xero_accounts_module_and_back(connected, apis, sandbox):
    zoho, xero = apis
    org_id = live_connections(connected.tenant).zoho.remote_org_id
    sandbox.zoho.call("POST", f"orgs/{org_id}/modules/Xero_Accounts")  # as the portal's set-up installs it
    sales = next(a for a in xero.all("Accounts") if a["Code"] == "200")
    engine(connected).sync_records(X2Z, "Accounts", [sales["AccountID"]])
    (row,) = zoho.search("Xero_Accounts", criteria="(Account_Code:equals:200)")
    assert (row["Name"], row["Account_Type"]) == (sales["Name"], "Revenue")
    record_id = create_zoho(zoho, "Xero_Accounts", {"Name": "Consulting income", "Account_Code": "265",
                                                     "Account_Type": "Revenue", "Tax_Type": "OUTPUT2"})
    engine(connected).sync_records(Z2X, "Xero_Accounts", [record_id])
    created = next(a for a in xero.all("Accounts") if a["Code"] == "265")
    assert (created["Name"], created["Type"]) == ("Consulting income", "REVENUE")
