"""Contacts in the Xero sandbox: validation as strict as Xero's, batches with and without summarizeErrors,
archiving, and the read parameters (paging, where, order, IDs, searchTerm, If-Modified-Since)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tests.sandbox.xero.helpers import validation_messages

DUPLICATE = ("The contact name Bayside Club is already assigned to another contact. The contact name must be unique "
             "across all active contacts.")


def test_create_answers_the_saved_contact_with_xero_defaults(xero):
    body = xero.ok(xero.put("/Contacts", {"Contacts": [{
        "Name": "Tui Brewing", "EmailAddress": "orders@tui.example", "ContactNumber": "TUI-1",
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "021 555 123"}],
        "Addresses": [{"AddressType": "POBOX", "AddressLine1": "PO Box 12", "City": "Mangatainoka"}],
        "ContactPersons": [{"FirstName": "Mere", "EmailAddress": "mere@tui.example", "IncludeInEmails": True}],
        "IsCustomer": True,  # read-only: ignored
    }]}))
    assert body["Status"] == "OK" and body["DateTimeUTC"].startswith("/Date(")
    contact = body["Contacts"][0]
    assert contact["ContactStatus"] == "ACTIVE" and contact["IsCustomer"] is False
    assert [a["AddressType"] for a in contact["Addresses"]] == ["POBOX", "STREET"]
    assert [p["PhoneType"] for p in contact["Phones"]] == ["DEFAULT", "DDI", "FAX", "MOBILE"]
    assert contact["Phones"][3]["PhoneNumber"] == "021 555 123"
    assert contact["UpdatedDateUTC"].endswith("+0000)/")
    fetched = xero.ok(xero.get(f"/Contacts/{contact['ContactID']}"))["Contacts"][0]
    assert fetched["Balances"]["AccountsReceivable"] == {"Outstanding": 0.0, "Overdue": 0.0}
    by_number = xero.ok(xero.get("/Contacts/TUI-1"))["Contacts"][0]
    assert by_number["ContactID"] == contact["ContactID"]


def test_name_must_be_unique_among_active_contacts(xero):
    refused = xero.put("/Contacts", {"Contacts": [{"Name": "Bayside Club"}]})
    assert refused.status_code == 400
    body = refused.json()
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (10, "ValidationException",
                                                                    "A validation exception occurred")
    assert body["Elements"][0]["ValidationErrors"][0]["Message"] == DUPLICATE
    # Archived contacts do not hold their name.
    assert xero.ok(xero.put("/Contacts", {"Contacts": [{"Name": "Old Timber Yard"}]}))
    missing = xero.put("/Contacts", {"Contacts": [{"EmailAddress": "not-an-email"}]})
    assert set(validation_messages(missing.json())) == {"The Name field is mandatory.", "Email address must be valid."}


def test_summarize_errors_false_answers_each_element(xero):
    answer = xero.put("/Contacts?summarizeErrors=false", {"Contacts": [
        {"Name": "Kea Kayaks"}, {"Name": "Bayside Club"}, {"Name": "Kea Kayaks"}]})
    body = xero.ok(answer)
    statuses = [contact["StatusAttributeString"] for contact in body["Contacts"]]
    assert statuses == ["OK", "ERROR", "ERROR"]
    failed = body["Contacts"][1]
    assert failed["HasValidationErrors"] is True and failed["ValidationErrors"][0]["Message"] == DUPLICATE
    assert "ContactID" in body["Contacts"][0]
    names = [c["Name"] for c in xero.ok(xero.get("/Contacts"))["Contacts"]]
    assert names.count("Kea Kayaks") == 1


def test_default_batch_saves_the_valid_elements_and_lists_the_failed_ones(xero):
    answer = xero.put("/Contacts", {"Contacts": [{"Name": "Pukeko Press"}, {"Name": "Bayside Club"}]})
    assert answer.status_code == 400
    assert [element["Name"] for element in answer.json()["Elements"]] == ["Bayside Club"]
    assert "Pukeko Press" in [c["Name"] for c in xero.ok(xero.get("/Contacts"))["Contacts"]]


def test_update_keeps_omitted_fields_and_archiving_hides_the_contact(xero):
    created = xero.ok(xero.put("/Contacts", {"Contacts": [{"Name": "Weta Works", "EmailAddress": "w@weta.example",
                                                           "FirstName": "Peter"}]}))["Contacts"][0]
    contact_id = created["ContactID"]
    updated = xero.ok(xero.post(f"/Contacts/{contact_id}", {"Contacts": [{"LastName": "Jackson"}]}))["Contacts"][0]
    assert (updated["FirstName"], updated["LastName"], updated["EmailAddress"]) == ("Peter", "Jackson",
                                                                                   "w@weta.example")
    assert updated["UpdatedDateUTC"] >= created["UpdatedDateUTC"]
    archived = xero.ok(xero.post("/Contacts", {"Contacts": [{"ContactID": contact_id, "ContactStatus": "ARCHIVED"}]}))
    assert archived["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    listed = [c["ContactID"] for c in xero.ok(xero.get("/Contacts"))["Contacts"]]
    assert contact_id not in listed
    everything = [c["ContactID"] for c in xero.ok(xero.get("/Contacts?includeArchived=True"))["Contacts"]]
    assert contact_id in everything
    assert xero.delete(f"/Contacts/{contact_id}").status_code == 405  # Xero has no DELETE for contacts


def test_post_matches_an_existing_contact_by_contact_number(xero):
    xero.ok(xero.post("/Contacts", {"Contacts": [{"ContactNumber": "BAY-001", "AccountNumber": "ACC-9"}]}))
    bayside = xero.ok(xero.get("/Contacts?where=" + 'ContactNumber=="BAY-001"'))["Contacts"]
    assert len(bayside) == 1 and bayside[0]["AccountNumber"] == "ACC-9" and bayside[0]["Name"] == "Bayside Club"


def test_unknown_contact_is_a_plain_404(xero):
    missing = xero.get("/Contacts/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.text == "The resource you're looking for cannot be found"
    assert xero.get("/NoSuchThing").status_code == 404


def test_paging_where_order_ids_and_search(sandbox, xero):
    sandbox.xero.seed(org="nz", seed=7, contacts=250)
    first = xero.ok(xero.get("/Contacts?page=1&pageSize=100"))
    active = first["pagination"]["itemCount"]
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": (active + 99) // 100,
                                   "itemCount": active}
    assert 240 < active < 256 and len(first["Contacts"]) == 100
    last = xero.ok(xero.get(f"/Contacts?page={first['pagination']['pageCount']}&pageSize=100"))
    seen = {c["ContactID"] for c in first["Contacts"]} | {c["ContactID"] for c in last["Contacts"]}
    assert len(seen) == 100 + len(last["Contacts"])
    names = [c["Name"] for c in first["Contacts"]]
    assert names == sorted(names, key=str.lower)
    assert "pagination" not in xero.ok(xero.get("/Contacts"))
    assert xero.get("/Contacts?page=1&pageSize=1001").status_code == 400

    some = first["Contacts"][:3]
    by_ids = xero.ok(xero.get("/Contacts?IDs=" + ",".join(c["ContactID"] for c in some)))["Contacts"]
    assert {c["ContactID"] for c in by_ids} == {c["ContactID"] for c in some}
    target = first["Contacts"][5]
    where = f'ContactID==guid("{target["ContactID"]}")'
    assert [c["Name"] for c in xero.ok(xero.get("/Contacts", params={"where": where}))["Contacts"]] == \
        [target["Name"]]
    starts = xero.ok(xero.get("/Contacts", params={"where": 'Name.StartsWith("kowhai") AND EmailAddress != null',
                                                   "order": "Name DESC"}))["Contacts"]
    assert starts and all(c["Name"].startswith("Kowhai") and c["EmailAddress"] for c in starts)
    assert [c["Name"] for c in starts] == sorted((c["Name"] for c in starts), key=str.lower, reverse=True)
    searched = xero.ok(xero.get("/Contacts", params={"searchTerm": target["ContactNumber"]}))["Contacts"]
    assert [c["ContactID"] for c in searched] == [target["ContactID"]]
    either = xero.ok(xero.get("/Contacts", params={
        "where": f'Name=="{some[0]["Name"].upper()}" || Name=="{some[1]["Name"]}"'}))["Contacts"]
    assert {c["ContactID"] for c in either} == {some[0]["ContactID"], some[1]["ContactID"]}


def test_where_refuses_what_it_cannot_serve(xero):
    cases = {
        'ContactID=="00000000-0000-4000-8000-000000000000"': "incompatible with operand types 'Guid' and 'String'",
        'Nickname=="x"': "No property or field 'Nickname' exists in type 'Contact'",
        'Name=="x" AND': "Expression expected",
        'Name.ToLower()=="x"': "No applicable method 'ToLower'",
        'IsCustomer=="true"': "incompatible with operand types 'Boolean' and 'String'",
    }
    for where, message in cases.items():
        answer = xero.get("/Contacts", params={"where": where})
        assert answer.status_code == 400, where
        body = answer.json()
        assert (body["ErrorNumber"], body["Type"]) == (16, "QueryParseException")
        assert message in body["Message"], (where, body["Message"])
    assert xero.get("/Contacts", params={"order": "Shoe DESC"}).status_code == 400


def test_if_modified_since_returns_only_later_changes(sandbox, xero):
    contacts = xero.ok(xero.get("/Contacts"))["Contacts"]
    sandbox.xero.clock(advance_seconds=120)
    moment = datetime.fromtimestamp(sandbox.xero.clock()["epoch"], UTC)
    sandbox.xero.clock(advance_seconds=5)
    xero.ok(xero.post(f"/Contacts/{contacts[0]['ContactID']}", {"Contacts": [{"AccountNumber": "CHANGED"}]}))
    for header in (moment.isoformat(),  # what xero-python sends: microseconds and an offset
                   moment.strftime("%Y-%m-%dT%H:%M:%S"),
                   moment.astimezone(timezone(timedelta(hours=12))).isoformat(),  # the same instant, NZST
                   moment.strftime("%a, %d %b %Y %H:%M:%S GMT")):
        changed = xero.ok(xero.get("/Contacts", headers={"If-Modified-Since": header}))["Contacts"]
        assert [c["ContactID"] for c in changed] == [contacts[0]["ContactID"]], header
    assert xero.get("/Contacts", headers={"If-Modified-Since": "yesterday"}).status_code == 400


def test_summary_only_leaves_out_the_heavy_parts(xero):
    contact = xero.ok(xero.get("/Contacts?summaryOnly=true"))["Contacts"][0]
    assert "Addresses" not in contact and "Phones" not in contact and contact["Name"]


def test_json_is_required_both_ways(xero):
    xml = xero.get("/Contacts", headers={"Accept": "application/xml"})
    assert xml.status_code == 406
    broken = xero.request("PUT", "/Contacts", data="{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["Type"] == "PostDataInvalidException"
