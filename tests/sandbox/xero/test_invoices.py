"""Invoices, payments, credit notes and items in the Xero sandbox: server-side totals, tax and rounding, numbers,
the status machine, lock dates, payments that settle and unsettle invoices (FACTS.md §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.sandbox.xero.helpers import NZ, validation_messages


def ms_date(day: date) -> str:
    return f"/Date({int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)}+0000)/"


def today(sandbox) -> date:
    return datetime.fromtimestamp(sandbox.xero.clock()["epoch"], UTC).date()


def contact_id(xero, name: str = "City Agency") -> str:
    contacts = xero.ok(xero.get("/Contacts", params={"where": f'Name=="{name}"'}))["Contacts"]
    return str(contacts[0]["ContactID"])


def invoice(xero, sandbox, **fields):
    day = today(sandbox)
    body = {"Type": "ACCREC", "Contact": {"ContactID": contact_id(xero)}, "Date": day.isoformat(),
            "DueDate": (day + timedelta(days=14)).isoformat(),
            "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}]}
    body.update(fields)
    return xero.put("/Invoices", {"Invoices": [body]})


def test_totals_tax_and_rounding_are_computed_per_line(sandbox, xero):
    exclusive = xero.ok(invoice(xero, sandbox, LineItems=[
        {"Description": "A", "Quantity": 3, "UnitAmount": 33.33, "AccountCode": "200"},
        {"Description": "B", "Quantity": 1.5, "UnitAmount": 10.01, "AccountCode": "200"},
        {"Description": "C", "Quantity": 10, "UnitAmount": 19.95, "DiscountRate": 10, "AccountCode": "200"},
    ], Total=1.0))["Invoices"][0]
    assert [(line["LineAmount"], line["TaxAmount"], line["TaxType"]) for line in exclusive["LineItems"]] == [
        (99.99, 15.0, "OUTPUT2"), (15.02, 2.25, "OUTPUT2"), (179.55, 26.93, "OUTPUT2")]
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"]) == (294.56, 44.18, 338.74)
    assert exclusive["AmountDue"] == 338.74 and exclusive["TotalDiscount"] == 19.95 and exclusive["IsDiscounted"]

    inclusive = xero.ok(invoice(xero, sandbox, LineAmountTypes="Inclusive", LineItems=[
        {"Description": "A", "Quantity": 1, "UnitAmount": 115, "AccountCode": "200"},
        {"Description": "B", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"},
    ]))["Invoices"][0]
    assert [line["TaxAmount"] for line in inclusive["LineItems"]] == [15.0, 1.3]
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (108.7, 16.3, 125.0)

    no_tax = xero.ok(invoice(xero, sandbox, LineAmountTypes="NoTax", LineItems=[
        {"Description": "A", "Quantity": 2, "UnitAmount": 50, "AccountCode": "200"}]))["Invoices"][0]
    assert (no_tax["TotalTax"], no_tax["Total"], no_tax["LineItems"][0]["TaxType"]) == (0.0, 100.0, "NONE")

    wrong = invoice(xero, sandbox, LineItems=[{"Description": "A", "Quantity": 2, "UnitAmount": 50,
                                               "LineAmount": 120, "AccountCode": "200"}])
    assert "does not match the expected line amount" in validation_messages(wrong.json())[0]


def test_unit_amounts_keep_four_decimals_only_with_unitdp(sandbox, xero):
    day = today(sandbox)
    created = xero.ok(xero.put("/Invoices?unitdp=4", {"Invoices": [{
        "Type": "ACCREC", "Contact": {"Name": "Bayside Club"}, "Date": day.isoformat(),
        "LineItems": [{"Description": "Tiny", "Quantity": 100, "UnitAmount": 1.23456, "AccountCode": "200"}]}]}))
    line = created["Invoices"][0]["LineItems"][0]
    assert (line["UnitAmount"], line["LineAmount"]) == (1.2346, 123.46)
    invoice_id = created["Invoices"][0]["InvoiceID"]
    assert xero.ok(xero.get(f"/Invoices/{invoice_id}"))["Invoices"][0]["LineItems"][0]["UnitAmount"] == 1.23
    assert xero.ok(xero.get(f"/Invoices/{invoice_id}?unitdp=4"))["Invoices"][0]["LineItems"][0]["UnitAmount"] == 1.2346


def test_numbers_are_generated_and_unique_for_sales_invoices_only(sandbox, xero):
    generated = xero.ok(invoice(xero, sandbox))["Invoices"][0]
    assert generated["InvoiceNumber"] == "INV-0004" and generated["Status"] == "DRAFT"
    duplicate = invoice(xero, sandbox, InvoiceNumber="INV-0002")
    assert validation_messages(duplicate.json()) == ["Invoice # must be unique."]
    bill = xero.ok(invoice(xero, sandbox, Type="ACCPAY", InvoiceNumber="PD-55012", Contact={"Name": "PowerDirect"},
                           LineItems=[{"Description": "Power", "Quantity": 1, "UnitAmount": 80,
                                       "AccountCode": "429"}]))["Invoices"][0]
    assert bill["InvoiceNumber"] == "PD-55012"  # bills may repeat a supplier's number
    by_number = xero.ok(xero.get("/Invoices/INV-0004"))["Invoices"][0]
    assert by_number["InvoiceID"] == generated["InvoiceID"]
    assert by_number["Contact"]["Name"] == "City Agency" and "Addresses" in by_number["Contact"]


def test_status_transitions_follow_xero(sandbox, xero):
    draft = xero.ok(invoice(xero, sandbox, DueDate=None))["Invoices"][0]
    path = f"/Invoices/{draft['InvoiceID']}"
    refused = xero.post(path, {"Invoices": [{"Status": "AUTHORISED"}]})
    assert validation_messages(refused.json()) == ["The document DueDate field must be specified."]
    xero.ok(xero.post(path, {"Invoices": [{"Status": "SUBMITTED", "DueDate": today(sandbox).isoformat()}]}))
    approved = xero.ok(xero.post(path, {"Invoices": [{"Status": "AUTHORISED"}]}))["Invoices"][0]
    assert approved["Status"] == "AUTHORISED"
    for status in ("DRAFT", "DELETED", "PAID"):
        answer = xero.post(path, {"Invoices": [{"Status": status}]})
        assert validation_messages(answer.json()) == ["Invoice not of valid status for modification"], status
    voided = xero.ok(xero.post(path, {"Invoices": [{"Status": "VOIDED"}]}))["Invoices"][0]
    assert (voided["Status"], voided["AmountDue"]) == ("VOIDED", 0.0)
    assert validation_messages(xero.post(path, {"Invoices": [{"Reference": "late"}]}).json()) == \
        ["Invoice not of valid status for modification"]

    other = xero.ok(invoice(xero, sandbox))["Invoices"][0]
    deleted = xero.ok(xero.post(f"/Invoices/{other['InvoiceID']}", {"Invoices": [{"Status": "DELETED"}]}))
    assert deleted["Invoices"][0]["Status"] == "DELETED"
    assert validation_messages(invoice(xero, sandbox, Status="PAID").json()) == \
        ["Invoice not of valid status for creation"]


def test_line_items_appear_in_lists_only_with_a_page(xero):
    assert all("LineItems" not in inv for inv in xero.ok(xero.get("/Invoices"))["Invoices"])
    paged = xero.ok(xero.get("/Invoices?page=1"))["Invoices"]
    assert paged and all(inv["LineItems"] for inv in paged)


def test_invoice_filters(sandbox, xero):
    authorised = xero.ok(xero.get("/Invoices?Statuses=AUTHORISED,PAID"))["Invoices"]
    assert {inv["Status"] for inv in authorised} == {"AUTHORISED", "PAID"} and len(authorised) == 3
    numbers = xero.ok(xero.get("/Invoices?InvoiceNumbers=INV-0001,INV-0003"))["Invoices"]
    assert sorted(inv["InvoiceNumber"] for inv in numbers) == ["INV-0001", "INV-0003"]
    agency = contact_id(xero)
    mine = xero.ok(xero.get(f"/Invoices?ContactIDs={agency}"))["Invoices"]
    assert [inv["Contact"]["ContactID"] for inv in mine] == [agency]
    since = today(sandbox) - timedelta(days=30)
    where = f'Type=="ACCREC" AND Status!="DRAFT" && Date >= DateTime({since.year},{since.month},{since.day})'
    recent = xero.ok(xero.get("/Invoices", params={"where": where, "order": "Date DESC"}))["Invoices"]
    assert [inv["InvoiceNumber"] for inv in recent] == ["INV-0003"]
    by_contact = xero.ok(xero.get("/Invoices", params={"where": f'Contact.ContactID==guid("{agency}")'}))
    assert len(by_contact["Invoices"]) == 1


def test_unknown_contact_name_creates_the_contact_and_archived_ones_are_refused(sandbox, xero):
    created = xero.ok(invoice(xero, sandbox, Contact={"Name": "Brand New Customer"}))["Invoices"][0]
    contact = xero.ok(xero.get(f"/Contacts/{created['Contact']['ContactID']}"))["Contacts"][0]
    assert contact["Name"] == "Brand New Customer" and contact["IsCustomer"] is True
    archived_message = ["The contact Old Timber Yard has been archived. The contact must be un-archived before "
                        "creating new invoices or credit notes."]
    by_name = invoice(xero, sandbox, Contact={"Name": "Old Timber Yard"})
    assert validation_messages(by_name.json()) == archived_message
    old_timber = xero.ok(xero.get("/Contacts?includeArchived=true", params={"where": 'Name=="Old Timber Yard"'}))
    assert len(old_timber["Contacts"]) == 1  # the refused invoice created no contact
    by_id = invoice(xero, sandbox, Contact={"ContactID": old_timber["Contacts"][0]["ContactID"]})
    assert validation_messages(by_id.json()) == archived_message
    nobody = invoice(xero, sandbox, Contact={"EmailAddress": "x@y.example"})
    assert validation_messages(nobody.json()) == [
        "The Contact must contain at least 1 of the following elements to identify the contact: Name, ContactID, "
        "ContactNumber"]


def test_lock_dates_refuse_approved_documents_and_payments_in_the_locked_period(sandbox, xero):
    day = today(sandbox)
    lock = day - timedelta(days=10)
    sandbox.xero.call("POST", f"orgs/{NZ}", {"period_lock_date": lock.isoformat()})
    old = (day - timedelta(days=20)).isoformat()
    refused = invoice(xero, sandbox, Status="AUTHORISED", Date=old)
    assert validation_messages(refused.json()) == [
        f"The document date cannot be before the period lock date, currently set at {lock.strftime('%d-%b-%Y')}"]
    draft = xero.ok(invoice(xero, sandbox, Date=old))["Invoices"][0]  # drafts still save
    approve = xero.post(f"/Invoices/{draft['InvoiceID']}", {"Invoices": [{"Status": "AUTHORISED"}]})
    assert "period lock date" in validation_messages(approve.json())[0]
    year_end = day - timedelta(days=40)
    sandbox.xero.call("POST", f"orgs/{NZ}", {"end_of_year_lock_date": year_end.isoformat()})
    older = invoice(xero, sandbox, Status="AUTHORISED", Date=(day - timedelta(days=50)).isoformat())
    assert validation_messages(older.json()) == [
        "The document date cannot be before the end of year lock date, currently set at "
        f"{year_end.strftime('%d-%b-%Y')}"]
    payable = xero.ok(invoice(xero, sandbox, Status="AUTHORISED"))["Invoices"][0]
    payment = xero.put("/Payments", {"Payments": [{"Invoice": {"InvoiceID": payable["InvoiceID"]},
                                                   "Account": {"Code": "090"}, "Date": old, "Amount": 10}]})
    assert "payment date cannot be before the period lock date" in validation_messages(payment.json())[0]


def pay(xero, invoice_id: str, amount: float, day: date, **extra):
    return xero.put("/Payments", {"Payments": [{"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"},
                                                "Date": day.isoformat(), "Amount": amount, **extra}]})


def test_payments_settle_the_invoice_and_deleting_one_reverses_it(sandbox, xero):
    day = today(sandbox)
    inv = xero.ok(invoice(xero, sandbox, Status="AUTHORISED"))["Invoices"][0]  # 115.00 incl. GST
    first = xero.ok(pay(xero, inv["InvoiceID"], 40, day))["Payments"][0]
    assert (first["PaymentType"], first["Status"], first["Amount"]) == ("ACCRECPAYMENT", "AUTHORISED", 40.0)
    partly = xero.ok(xero.get(f"/Invoices/{inv['InvoiceID']}"))["Invoices"][0]
    assert (partly["Status"], partly["AmountPaid"], partly["AmountDue"]) == ("AUTHORISED", 40.0, 75.0)
    too_much = pay(xero, inv["InvoiceID"], 75.01, day)
    assert validation_messages(too_much.json()) == ["Payment amount exceeds the amount outstanding on this document"]
    assert validation_messages(xero.post(f"/Invoices/{inv['InvoiceID']}",
                                         {"Invoices": [{"Status": "VOIDED"}]}).json()) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."]
    # POST /Payments takes one bare payment object (OAS).
    rest = xero.ok(xero.post("/Payments", {"Invoice": {"InvoiceNumber": inv["InvoiceNumber"]},
                                           "Account": {"Code": "090"}, "Date": day.isoformat(), "Amount": 75}))
    paid = xero.ok(xero.get(f"/Invoices/{inv['InvoiceID']}"))["Invoices"][0]
    assert (paid["Status"], paid["AmountDue"], paid["FullyPaidOnDate"]) == ("PAID", 0.0, ms_date(day))
    assert len(paid["Payments"]) == 2

    payment_id = rest["Payments"][0]["PaymentID"]
    assert xero.ok(xero.post(f"/Payments/{payment_id}", {"Status": "DELETED"}))["Payments"][0]["Status"] == "DELETED"
    reopened = xero.ok(xero.get(f"/Invoices/{inv['InvoiceID']}"))["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"], "FullyPaidOnDate" in reopened) == ("AUTHORISED", 75.0, False)
    edit = xero.post(f"/Payments/{first['PaymentID']}", {"Payments": [{"Amount": 1}]})
    assert validation_messages(edit.json()) == ["Payments cannot be edited, only deleted (POST Status DELETED)"]


def test_payment_rules_and_per_element_answers(sandbox, xero):
    day = today(sandbox)
    draft = xero.ok(invoice(xero, sandbox))["Invoices"][0]
    approved = xero.ok(invoice(xero, sandbox, Status="AUTHORISED"))["Invoices"][0]
    answer = xero.ok(xero.put("/Payments?summarizeErrors=false", {"Payments": [
        {"Invoice": {"InvoiceID": draft["InvoiceID"]}, "Account": {"Code": "090"}, "Date": day.isoformat(),
         "Amount": 5},
        {"Invoice": {"InvoiceID": approved["InvoiceID"]}, "Account": {"Code": "200"}, "Date": day.isoformat(),
         "Amount": 5},
        {"Invoice": {"InvoiceID": approved["InvoiceID"]}, "Account": {"Code": "091"},
         "Date": f"/Date({int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)})/",
         "Amount": 5, "Reference": "ok"},
    ]}))
    assert [p["StatusAttributeString"] for p in answer["Payments"]] == ["ERROR", "ERROR", "OK"]
    assert "AUTHORISED" in answer["Payments"][0]["ValidationErrors"][0]["Message"]
    assert "not a bank account" in answer["Payments"][1]["ValidationErrors"][0]["Message"]
    listed = xero.ok(xero.get("/Payments", params={"where": f'Invoice.InvoiceID==guid("{approved["InvoiceID"]}")'}))
    assert [p["Reference"] for p in listed["Payments"]] == ["ok"]


def test_bills_are_paid_the_same_way(sandbox, xero):
    bill = xero.ok(xero.get("/Invoices", params={"where": 'Type=="ACCPAY"'}))["Invoices"][0]
    payment = xero.ok(pay(xero, bill["InvoiceID"], bill["AmountDue"], today(sandbox)))["Payments"][0]
    assert payment["PaymentType"] == "ACCPAYPAYMENT"
    assert xero.ok(xero.get(f"/Invoices/{bill['InvoiceID']}"))["Invoices"][0]["Status"] == "PAID"


def test_credit_notes_are_numbered_and_allocated(sandbox, xero):
    day = today(sandbox)
    inv = xero.ok(invoice(xero, sandbox, Status="AUTHORISED"))["Invoices"][0]
    note = xero.ok(xero.put("/CreditNotes", {"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": contact_id(xero)}, "Status": "AUTHORISED",
        "Date": day.isoformat(), "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 20,
                                                "AccountCode": "200"}]}]}))["CreditNotes"][0]
    assert (note["CreditNoteNumber"], note["Total"], note["RemainingCredit"]) == ("CN-0001", 23.0, 23.0)
    too_much = xero.put(f"/CreditNotes/{note['CreditNoteID']}/Allocations",
                        {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 30,
                                          "Date": day.isoformat()}]})
    assert too_much.status_code == 400
    xero.ok(xero.put(f"/CreditNotes/{note['CreditNoteID']}/Allocations",
                     {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 23,
                                       "Date": day.isoformat()}]}))
    credited = xero.ok(xero.get(f"/Invoices/{inv['InvoiceID']}"))["Invoices"][0]
    assert (credited["AmountCredited"], credited["AmountDue"]) == (23.0, 92.0)
    used = xero.ok(xero.get(f"/CreditNotes/{note['CreditNoteID']}"))["CreditNotes"][0]
    assert (used["Status"], used["RemainingCredit"]) == ("PAID", 0.0)
    assert xero.ok(xero.get("/CreditNotes?page=1"))["pagination"]["itemCount"] == 1


def test_items_codes_are_unique_and_delete_answers_204(sandbox, xero):
    created = xero.ok(xero.put("/Items", {"Items": [{"Code": "KETE", "Name": "Woven kete",
                                                      "SalesDetails": {"UnitPrice": 45.5, "AccountCode": "200",
                                                                       "TaxType": "OUTPUT2"}}]}))["Items"][0]
    assert created["IsSold"] and created["SalesDetails"] == {"UnitPrice": 45.5, "AccountCode": "200",
                                                             "TaxType": "OUTPUT2"}
    duplicate = xero.put("/Items", {"Items": [{"Code": "kete"}]})
    assert validation_messages(duplicate.json()) == ["Price List Item with Code 'kete' already exists"]
    bad_tax = xero.put("/Items", {"Items": [{"Code": "X1", "SalesDetails": {"TaxType": "INPUT2"}}]})
    assert "cannot be used for this type of transaction" in validation_messages(bad_tax.json())[0]
    updated = xero.ok(xero.post("/Items", {"Items": [{"Code": "KETE", "Name": "Kete"}]}))["Items"][0]
    assert (updated["ItemID"], updated["Name"]) == (created["ItemID"], "Kete")
    assert xero.ok(xero.get("/Items/KETE"))["Items"][0]["ItemID"] == created["ItemID"]
    priced = xero.ok(invoice(xero, sandbox, LineItems=[{"ItemCode": "KETE", "Quantity": 2}]))["Invoices"][0]
    line = priced["LineItems"][0]
    # The item fills in the price, the account and the tax type.
    assert (line["UnitAmount"], line["LineAmount"], line["AccountCode"], line["TaxType"], line["TaxAmount"]) == \
        (45.5, 91.0, "200", "OUTPUT2", 13.65)
    deleted = xero.delete(f"/Items/{created['ItemID']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert xero.get(f"/Items/{created['ItemID']}").status_code == 404


def test_settings_resources(sandbox, xero):
    accounts = xero.ok(xero.get("/Accounts"))["Accounts"]
    debtors = next(a for a in accounts if a.get("SystemAccount") == "DEBTORS")
    assert debtors["Class"] == "ASSET"
    new = xero.ok(xero.put("/Accounts", {"Code": "201", "Name": "Online Sales", "Type": "SALES",
                                         "TaxType": "OUTPUT2"}))["Accounts"][0]
    assert (new["Class"], new["Status"]) == ("REVENUE", "ACTIVE")
    clash = xero.put("/Accounts", {"Code": "201", "Name": "Other", "Type": "SALES"})
    assert validation_messages(clash.json()) == ["Please enter a unique Code."]
    deleted = xero.ok(xero.delete(f"/Accounts/{new['AccountID']}"))["Accounts"][0]
    assert deleted["Status"] == "DELETED"
    assert xero.delete(f"/Accounts/{debtors['AccountID']}").status_code == 400
    rates = {rate["TaxType"]: rate for rate in xero.ok(xero.get("/TaxRates"))["TaxRates"]}
    assert {"OUTPUT2", "INPUT2", "NONE"} <= set(rates) and rates["OUTPUT2"]["EffectiveRate"] == 15.0
    assert xero.ok(xero.get("/TaxRates/INPUT2"))["TaxRates"][0]["Name"] == "GST on Expenses"
    custom = xero.ok(xero.put("/TaxRates", {"TaxRates": [{"Name": "Levy", "TaxComponents": [
        {"Name": "Levy", "Rate": 2.5}]}]}))["TaxRates"][0]
    assert (custom["TaxType"], custom["EffectiveRate"]) == ("TAX001", 2.5)
    codes = [currency["Code"] for currency in xero.ok(xero.get("/Currencies"))["Currencies"]]
    assert "NZD" in codes
    organisation = xero.ok(xero.get("/Organisation"))["Organisations"][0]
    assert (organisation["OrganisationID"], organisation["BaseCurrency"], organisation["CountryCode"]) == \
        (NZ, "NZD", "NZ")
    assert xero.post("/Organisation", {"Organisations": [{"Name": "x"}]}).status_code == 501
