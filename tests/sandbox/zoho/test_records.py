"""The Zoho CRM API's metadata and records in the sandbox, every response checked against Zoho's OpenAPI files."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.sandbox.zoho.conftest import Api, ZohoSandbox
from tests.sandbox.zoho.oas import validate, validate_error, validate_records, validate_write


@pytest.fixture
def api(zoho: ZohoSandbox) -> Api:
    return zoho.api("us")


def create(api: Api, module: str, records: list[dict], status: int = 201) -> list[str]:
    answer = api.post(f"/crm/v8/{module}", {"data": records})
    assert answer.status_code == status, answer.text
    validate_write(answer.json())
    return [item["details"]["id"] for item in answer.json()["data"]]


# --- metadata -------------------------------------------------------------------------------------------------


def test_modules_fields_layouts_and_related_lists_match_the_openapi_files(api: Api):
    modules = api.get("/crm/v8/settings/modules").json()
    validate("modules.json", "Response_Wrapper", modules)
    names = {module["api_name"]: module for module in modules["modules"]}
    assert {"Accounts", "Contacts", "Products", "Deals", "Invoices"} <= set(names)
    assert all(module["id"].isdigit() and module["generated_type"] for module in names.values())
    for name in ("Accounts", "Contacts", "Products", "Deals", "Invoices", "Invoiced_Items"):
        fields = api.get("/crm/v8/settings/fields", params={"module": name}).json()
        validate("fields.json", "Response_Wrapper", fields)
        for f in fields["fields"]:
            assert f["id"].isdigit()
            assert f["data_type"] in {"text", "textarea", "email", "phone", "website", "picklist",
                                      "multiselectpicklist", "integer", "bigint", "double", "currency", "percent",
                                      "boolean", "date", "datetime", "lookup", "ownerlookup", "subform",
                                      "autonumber", "linetax"}
    layouts = api.get("/crm/v8/settings/layouts", params={"module": "Deals"}).json()
    validate("layouts.json", "wrapper", layouts)
    related = api.get("/crm/v8/settings/related_lists", params={"module": "Deals"}).json()
    validate("related_lists.json", "Response_Wrapper", related)
    assert [item["api_name"] for item in related["related_lists"]] == ["Products"]


def test_field_metadata_carries_types_picklists_lookups_and_mandatory_flags(api: Api):
    deals = {f["api_name"]: f for f in api.get("/crm/v8/settings/fields", params={"module": "Deals"}).json()["fields"]}
    assert deals["Stage"]["data_type"] == "picklist" and deals["Stage"]["system_mandatory"] is True
    assert "Closed Won" in [value["display_value"] for value in deals["Stage"]["pick_list_values"]]
    assert deals["Account_Name"]["lookup"]["module"]["api_name"] == "Accounts"
    invoices = {f["api_name"]: f for f in
                api.get("/crm/v8/settings/fields", params={"module": "Invoices"}).json()["fields"]}
    assert invoices["Invoiced_Items"]["data_type"] == "subform"
    assert invoices["Invoiced_Items"]["associated_module"]["module"] == "Invoiced_Items"
    # The payment fields a sync writes back are custom fields of every demo org.
    assert invoices["Amount_Paid"]["custom_field"] is True and invoices["Amount_Paid"]["data_type"] == "currency"
    lines = {f["api_name"]: f for f in
             api.get("/crm/v8/settings/fields", params={"module": "Invoiced_Items"}).json()["fields"]}
    assert lines["Product_Name"]["lookup"]["module"]["api_name"] == "Products"
    assert {"Quantity", "List_Price", "Discount", "Line_Tax", "Net_Total"} <= set(lines)


def test_current_user_and_org(api: Api):
    users = api.get("/crm/v8/users", params={"type": "CurrentUser"}).json()
    validate("users.json", "Response_Wrapper", users)
    assert users["users"][0]["email"] == "demo@zylker.example"
    org = api.get("/crm/v8/org").json()
    validate("org.json", "Response_Wrapper", org)
    assert org["org"][0]["zgid"].isdigit()


def test_custom_fields_and_the_xero_accounts_module_appear_once_added(zoho: ZohoSandbox, api: Api):
    org_id = zoho.org("us")["id"]
    before = zoho.advance(5)["now"]
    unchanged = api.get("/crm/v8/settings/modules", headers={"If-Modified-Since": before})
    assert unchanged.status_code == 304  # the SDK asks this way whether the metadata changed
    zoho.advance(5)
    added = zoho.call("POST", f"orgs/{org_id}/fields",
                      {"module": "Contacts", "label": "Xero Contact ID", "data_type": "text", "unique": True})
    assert added["api_name"] == "Xero_Contact_ID"
    fields = api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()
    validate("fields.json", "Response_Wrapper", fields)
    custom = next(f for f in fields["fields"] if f["api_name"] == "Xero_Contact_ID")
    assert custom["custom_field"] is True and custom["unique"] == {"casesensitive": "false"}
    ids = create(api, "Contacts", [{"Last_Name": "Linked", "Xero_Contact_ID": "abc-1"}])
    duplicate = api.post("/crm/v8/Contacts", {"data": [{"Last_Name": "Twin", "Xero_Contact_ID": "ABC-1"}]})
    assert duplicate.json()["data"][0]["code"] == "DUPLICATE_DATA"
    assert duplicate.json()["data"][0]["details"]["duplicate_record"]["id"] == ids[0]
    assert api.get("/crm/v8/settings/modules", headers={"If-Modified-Since": before}).status_code == 200
    zoho.call("POST", f"orgs/{org_id}/modules/Xero_Accounts")
    modules = [m["api_name"] for m in api.get("/crm/v8/settings/modules").json()["modules"]]
    assert "Xero_Accounts" in modules
    xero_ids = create(api, "Xero_Accounts", [{"Name": "Sales", "Account_Code": "200", "Account_Type": "Revenue",
                                              "Xero_Account_ID": "5040915e-8ce7"}])
    assert api.get(f"/crm/v8/Xero_Accounts/{xero_ids[0]}").json()["data"][0]["Account_Code"] == "200"


# --- reading --------------------------------------------------------------------------------------------------


def test_list_needs_fields_and_limits_them(api: Api):
    missing = api.get("/crm/v8/Accounts")
    assert missing.status_code == 400 and missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    validate_error(missing.json())
    too_many = api.get("/crm/v8/Accounts", params={"fields": ",".join(f"F{i}" for i in range(51))})
    assert too_many.json()["code"] == "LIMIT_EXCEEDED"
    per_page = api.get("/crm/v8/Accounts", params={"fields": "Account_Name", "per_page": 201})
    assert per_page.status_code == 400 and per_page.json()["code"] == "INVALID_DATA"
    listed = api.get("/crm/v8/Accounts", params={"fields": "Account_Name,Owner,Created_Time", "per_page": 2})
    body = listed.json()
    validate_records(body)
    assert body["info"]["more_records"] is True and body["info"]["count"] == 2
    record = body["data"][0]
    assert set(record) == {"Account_Name", "Owner", "Created_Time", "id"}
    assert set(record["Owner"]) == {"name", "id", "email"}
    # Zoho: datetimes carry the org's offset (Zylker Inc. is in Los Angeles).
    assert datetime.fromisoformat(record["Created_Time"]).utcoffset().total_seconds() in (-7 * 3600, -8 * 3600)


def test_paging_past_two_thousand_records_needs_a_page_token(zoho: ZohoSandbox, api: Api):
    zoho.control.zoho.seed(org_id=zoho.org("us")["id"], contacts=2_300, accounts=10)
    params = {"fields": "Last_Name,Email", "per_page": 200}
    wall = api.get("/crm/v8/Contacts", params={**params, "page": 11})
    assert wall.status_code == 400 and wall.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    assert wall.json()["details"]["limit"] == 2000
    seen: list[str] = []
    page = api.get("/crm/v8/Contacts", params={**params, "page": 10}).json()
    seen += [record["id"] for record in page["data"]]
    token = page["info"]["next_page_token"]
    both = api.get("/crm/v8/Contacts", params={**params, "page": 2, "page_token": token})
    assert both.json()["code"] == "AMBIGUITY_DURING_PROCESSING"
    changed = api.get("/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 200, "page_token": token})
    assert changed.status_code == 400 and changed.json()["code"] == "TOKEN_BOUND_DATA_MISMATCH"
    while token:
        answer = api.get("/crm/v8/Contacts", params={**params, "page_token": token})
        assert answer.status_code == 200, answer.text
        validate_records(answer.json())
        seen += [record["id"] for record in answer.json()["data"]]
        token = answer.json()["info"]["next_page_token"]
    assert len(seen) == len(set(seen)) == 2_300 + 8 - 1800  # pages 10.. of all contacts, no repeats


def test_if_modified_since_and_empty_answers_have_no_body_or_content_type(zoho: ZohoSandbox, api: Api):
    ids = create(api, "Products", [{"Product_Name": "Fresh"}])
    stamp = api.get(f"/crm/v8/Products/{ids[0]}").json()["data"][0]["Modified_Time"]
    unchanged = api.get("/crm/v8/Products", params={"fields": "Product_Name"}, headers={"If-Modified-Since": stamp})
    assert unchanged.status_code == 304 and "Content-Type" not in unchanged.headers and unchanged.content == b""
    zoho.advance(2)
    api.put(f"/crm/v8/Products/{ids[0]}", {"data": [{"Unit_Price": 9.5}]})
    changed = api.get("/crm/v8/Products", params={"fields": "Product_Name,Unit_Price"},
                      headers={"If-Modified-Since": stamp})
    assert [record["id"] for record in changed.json()["data"]] == ids
    http_date = api.get("/crm/v8/Products", params={"fields": "Product_Name"},
                        headers={"If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert http_date.status_code == 400
    empty = api.get("/crm/v8/Vendors", params={"fields": "Vendor_Name"})
    assert empty.status_code == 204 and "Content-Type" not in empty.headers and empty.content == b""


def test_get_one_record_returns_every_field_with_subform_rows_and_lookups(api: Api):
    invoice_id = api.get("/crm/v8/Invoices", params={"fields": "Subject"}).json()["data"][0]["id"]
    record = api.get(f"/crm/v8/Invoices/{invoice_id}").json()
    validate_records(record, with_info=False)
    invoice = record["data"][0]
    assert invoice["Account_Name"]["name"] and invoice["Account_Name"]["id"].isdigit()
    lines = invoice["Invoiced_Items"]
    assert len(lines) == 2 and lines[0]["Product_Name"]["id"].isdigit()
    assert invoice["Sub_Total"] == round(sum(line["Net_Total"] for line in lines), 2)
    listed = api.get("/crm/v8/Invoices", params={"fields": "Subject,Invoiced_Items"}).json()["data"][0]
    assert "Invoiced_Items" not in listed  # list responses carry no subforms
    assert api.get("/crm/v8/Invoices/4150868009999999999").status_code == 204


# --- writing --------------------------------------------------------------------------------------------------


def test_a_batch_with_invalid_records_gets_per_record_results_in_order_and_207(api: Api):
    answer = api.post("/crm/v8/Accounts", {"data": [
        {"Account_Name": "North Ltd", "Website": "https://north.example"},
        {"Phone": "+1 555 0000"},
        {"Account_Name": "South Ltd", "Employees": "many"},
        {"Account_Name": "Zylker Inc."},
        {"Account_Name": "East Ltd", "Account_Type": "Friend"},
        {"Account_Name": "West Ltd", "Parent_Account": {"id": "4150868000000000001"}},
        {"Account_Name": "X" * 201},
        {"Account_Name": "North Ltd"},
    ]})
    assert answer.status_code == 207
    body = answer.json()
    validate_write(body)
    codes = [item["code"] for item in body["data"]]
    assert codes == ["SUCCESS", "MANDATORY_NOT_FOUND", "INVALID_DATA", "DUPLICATE_DATA", "INVALID_DATA",
                     "INVALID_DATA", "INVALID_DATA", "DUPLICATE_DATA"]
    assert body["data"][1]["details"] == {"api_name": "Account_Name", "json_path": "$.data[1].Account_Name"}
    assert body["data"][2]["details"]["expected_data_type"] == "integer"
    assert body["data"][6]["details"]["maximum_length"] == "200"
    assert body["data"][7]["details"]["duplicate_record"]["id"] == body["data"][0]["details"]["id"]
    assert len(body["data"][0]["details"]["id"]) == 19
    all_bad = api.post("/crm/v8/Accounts", {"data": [{"Phone": "1"}]})
    assert all_bad.status_code == 400 and all_bad.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    too_many = api.post("/crm/v8/Accounts", {"data": [{"Account_Name": f"A{i}"} for i in range(101)]})
    assert too_many.status_code == 400 and too_many.json()["code"] == "LIMIT_EXCEEDED"


def test_update_upsert_and_delete(api: Api):
    ids = create(api, "Contacts", [{"Last_Name": "Quaresma", "Email": "femi@okafor.example"},
                                   {"Last_Name": "Silva", "Email": "ines@silva.example"}])
    updated = api.put("/crm/v8/Contacts", {"data": [{"id": ids[0], "Title": "CFO"},
                                                    {"id": "4150868000999999999", "Title": "x"},
                                                    {"Title": "no id"}]})
    assert updated.status_code == 207
    validate_write(updated.json())
    assert [item["code"] for item in updated.json()["data"]] == ["SUCCESS", "INVALID_DATA", "MANDATORY_NOT_FOUND"]
    assert updated.json()["data"][0]["message"] == "record updated"
    upserted = api.post("/crm/v8/Contacts/upsert", {"data": [
        {"Last_Name": "Silva", "Email": "INES@silva.example", "Phone": "+351 1"},
        {"Last_Name": "Novak", "Email": "jonas@novak.example"}]})
    assert upserted.status_code == 200
    validate_write(upserted.json())
    first, second = upserted.json()["data"]
    assert (first["action"], first["duplicate_field"], first["details"]["id"]) == ("update", "Email", ids[1])
    assert (second["action"], second["duplicate_field"]) == ("insert", None)
    by_name = api.post("/crm/v8/Contacts/upsert", {"data": [{"Last_Name": "Quaresma", "Mobile": "+44 7"}],
                                                   "duplicate_check_fields": ["Last_Name"]})
    assert by_name.json()["data"][0]["details"]["id"] == ids[0]
    deleted = api.delete("/crm/v8/Contacts", params={"ids": f"{ids[0]},4150868000999999999"})
    assert deleted.status_code == 207
    validate_write(deleted.json())
    assert deleted.json()["data"][0] == {"code": "SUCCESS", "details": {"id": ids[0]}, "message": "record deleted",
                                         "status": "success"}
    assert api.get(f"/crm/v8/Contacts/{ids[0]}").status_code == 204
    recycle = api.get("/crm/v8/Contacts/deleted", params={"type": "recycle"}).json()
    validate("record.json", "Deleted_Records_Wrapper", recycle, ("data", "info"))
    assert recycle["data"][0]["id"] == ids[0] and recycle["data"][0]["display_name"] == "Quaresma"


def test_invoices_compute_line_and_invoice_totals(api: Api):
    products = create(api, "Products", [{"Product_Name": "Desk", "Unit_Price": 200.0},
                                        {"Product_Name": "Chair", "Unit_Price": 50.0}])
    account = api.get("/crm/v8/Accounts", params={"fields": "Account_Name"}).json()["data"][0]["id"]
    ids = create(api, "Invoices", [{
        "Subject": "Office", "Account_Name": {"id": account}, "Status": "Created", "Adjustment": -5.0,
        "Invoiced_Items": [
            {"Product_Name": {"id": products[0]}, "Quantity": 2, "Discount": "10%",
             "Line_Tax": [{"name": "VAT", "percentage": 20}]},
            {"Product_Name": {"id": products[1]}, "Quantity": 4, "List_Price": 45.0, "Discount": 20},
        ]}])
    invoice = api.get(f"/crm/v8/Invoices/{ids[0]}").json()["data"][0]
    desk, chair = invoice["Invoiced_Items"]
    assert (desk["List_Price"], desk["Total"], desk["Discount"], desk["Total_After_Discount"]) == (200, 400, 40, 360)
    assert (desk["Tax"], desk["Net_Total"]) == (72, 432)
    assert (chair["Total"], chair["Total_After_Discount"], chair["Net_Total"]) == (180, 160, 160)
    assert invoice["Sub_Total"] == 592 and invoice["Grand_Total"] == 587
    # Rows without an id are added, rows left out are removed.
    changed = api.put(f"/crm/v8/Invoices/{ids[0]}", {"data": [{"Invoiced_Items": [
        {"id": desk["id"], "Quantity": 1}]}]})
    assert changed.status_code == 200, changed.text
    lines = api.get(f"/crm/v8/Invoices/{ids[0]}").json()["data"][0]["Invoiced_Items"]
    assert [(line["id"], line["Quantity"], line["Net_Total"]) for line in lines] == [(desk["id"], 1, 216)]
    missing_lines = api.post("/crm/v8/Invoices", {"data": [{"Subject": "Empty"}]})
    assert missing_lines.json()["data"][0]["details"]["api_name"] == "Invoiced_Items"


def test_deals_relate_to_products(api: Api):
    deal = api.get("/crm/v8/Deals", params={"fields": "Deal_Name,Stage"}).json()["data"][0]["id"]
    product = api.get("/crm/v8/Products", params={"fields": "Product_Name"}).json()["data"][0]["id"]
    assert api.put(f"/crm/v8/Deals/{deal}/Products", {"data": [{"id": product}]}).json()["data"][0]["code"] == \
        "SUCCESS"
    related = api.get(f"/crm/v8/Deals/{deal}/Products", params={"fields": "Product_Name"}).json()
    validate_records(related)
    assert product in [record["id"] for record in related["data"]]
    assert api.delete(f"/crm/v8/Deals/{deal}/Products", params={"ids": product}).status_code == 200


# --- search, COQL, bulk read ----------------------------------------------------------------------------------


def test_search_by_criteria_email_phone_and_word(zoho: ZohoSandbox, api: Api):
    create(api, "Contacts", [{"Last_Name": "Burns, Jr.", "First_Name": "Monty", "Email": "monty@burns.example",
                              "Phone": "+1 555 7777"},
                             {"Last_Name": "Burnside", "Email": "b@side.example"}])
    escaped = api.get("/crm/v8/Contacts/search", params={"criteria": r"(Last_Name:equals:Burns\, Jr.)"})
    validate_records(escaped.json())
    assert [r["Last_Name"] for r in escaped.json()["data"]] == ["Burns, Jr."]
    both = api.get("/crm/v8/Contacts/search",
                   params={"criteria": "((Last_Name:starts_with:Burn)and(First_Name:equals:Monty))"}).json()
    assert [r["Email"] for r in both["data"]] == ["monty@burns.example"]
    # criteria wins over email when both are sent
    precedence = api.get("/crm/v8/Contacts/search", params={"criteria": "(Last_Name:starts_with:Burnside)",
                                                           "email": "monty@burns.example"}).json()
    assert [r["Last_Name"] for r in precedence["data"]] == ["Burnside"]
    assert api.get("/crm/v8/Contacts/search", params={"phone": "555 7777"}).json()["data"][0]["First_Name"] == "Monty"
    assert len(api.get("/crm/v8/Contacts/search", params={"word": "burns"}).json()["data"]) >= 1
    assert api.get("/crm/v8/Contacts/search", params={"word": "b"}).status_code == 400
    eleven = "(" + "and".join(f"(Last_Name:equals:x{i})" for i in range(11)) + ")"
    assert api.get("/crm/v8/Contacts/search", params={"criteria": eleven}).json()["code"] == "INVALID_QUERY"
    assert api.get("/crm/v8/Contacts/search", params={"criteria": "(Nope:equals:x)"}).status_code == 400
    assert api.get("/crm/v8/Contacts/search", params={"word": "nobody-here"}).status_code == 204
    limit = api.get("/crm/v8/Contacts/search", params={"word": "burns", "page": 11, "per_page": 200})
    assert limit.json()["code"] == "LIMIT_REACHED"


def test_new_records_are_not_searchable_until_indexed(zoho: ZohoSandbox, api: Api):
    zoho.settings(search_index_lag_seconds=2)
    create(api, "Contacts", [{"Last_Name": "Justwritten"}])
    assert api.get("/crm/v8/Contacts/search", params={"word": "Justwritten"}).status_code == 204
    zoho.advance(3)
    assert api.get("/crm/v8/Contacts/search", params={"word": "Justwritten"}).status_code == 200


def test_coql_selects_filters_sorts_and_pages(zoho: ZohoSandbox, api: Api):
    query = ("select Deal_Name, Stage, Amount, Account_Name, Account_Name.Account_Name from Deals "
             "where ((Stage = 'Closed Won' or Stage = 'Negotiation/Review') and Amount > 100) "
             "order by Amount desc limit 0, 10")
    answer = api.post("/crm/v8/coql", {"select_query": query})
    body = answer.json()
    validate("coql.json", "Response_Wrapper", body, ("data", "info"))
    assert [deal["Stage"] for deal in body["data"]] == ["Closed Won", "Negotiation/Review"]
    won = body["data"][0]
    assert set(won["Account_Name"]) == {"id"}  # COQL answers lookups with their id only
    account = api.get(f"/crm/v8/Accounts/{won['Account_Name']['id']}").json()["data"][0]
    assert won["Account_Name.Account_Name"] == account["Account_Name"]
    assert body["data"][0]["Amount"] > body["data"][1]["Amount"]
    ungrouped = api.post("/crm/v8/coql", {"select_query": "select id from Deals where Stage = 'a' and Amount > 1 "
                                                           "and Amount < 5"})
    assert ungrouped.status_code == 400 and ungrouped.json()["code"] == "SYNTAX_ERROR"
    no_where = api.post("/crm/v8/coql", {"select_query": "select id from Deals"})
    assert no_where.json()["code"] == "SYNTAX_ERROR"
    bad_column = api.post("/crm/v8/coql", {"select_query": "select Nope from Deals where id is not null"})
    assert bad_column.json()["code"] == "INVALID_QUERY"
    via = api.post("/crm/v8/coql", {"select_query": "select Last_Name from Contacts where "
                                                     "Account_Name.Account_Name like 'Zylker%'"}).json()
    assert len(via["data"]) == 2
    stamp = api.get("/crm/v8/org").json()["org"][0]["created_time"]
    since = api.post("/crm/v8/coql", {"select_query": f"select Subject from Invoices where Modified_Time > "
                                                       f"'{stamp}' limit 2 offset 1"}).json()
    assert since["info"] == {"count": 2, "more_records": False}
    assert api.post("/crm/v8/coql", {"select_query": "select id from Deals where id is not null limit 2001"}).json()[
        "code"] == "LIMIT_EXCEEDED"
    assert api.post("/crm/v8/coql", {"select_query": "select id from Deals where Stage = 'None'"}).status_code == 204


def test_bulk_read_exports_a_zip_with_one_csv(zoho: ZohoSandbox, api: Api):
    import csv
    import io
    import zipfile

    missing_type = api.post("/crm/bulk/v8/read", {"query": {"module": {"api_name": "Contacts"}}})
    assert missing_type.status_code == 415
    created = api.post("/crm/bulk/v8/read", {"query": {
        "module": {"api_name": "Contacts"}, "fields": ["Last_Name", "Email", "Account_Name",
                                                       "Account_Name.Account_Name", "Created_Time"],
        "criteria": {"group_operator": "and", "group": [
            {"field": {"api_name": "Last_Name"}, "comparator": "not_equal", "value": "Nobody"}]}}},
        headers={"Content-Type": "application/json"})
    assert created.status_code == 201, created.text
    validate("bulk_read.json", "Success_Response", created.json()["data"][0])
    job_id = created.json()["data"][0]["details"]["id"]
    job = api.get(f"/crm/bulk/v8/read/{job_id}").json()["data"][0]
    assert job["state"] == "ADDED"
    assert api.get(f"/crm/bulk/v8/read/{job_id}/result").status_code == 400
    zoho.advance(6)
    job = api.get(f"/crm/bulk/v8/read/{job_id}").json()
    validate("bulk_read.json", "Response_Wrapper", job)
    result = job["data"][0]["result"]
    assert job["data"][0]["state"] == "COMPLETED" and result["count"] == 8
    download = api.get(result["download_url"])
    assert download.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert archive.namelist() == [f"{job_id}.csv"]
    rows = list(csv.DictReader(io.StringIO(archive.read(f"{job_id}.csv").decode())))
    assert len(rows) == 8 and list(rows[0]) == ["id", "Last_Name", "Email", "Account_Name",
                                                "Account_Name.Account_Name", "Created_Time"]
    assert rows[0]["Account_Name"].isdigit() and rows[0]["Account_Name.Account_Name"].endswith("Inc.")
    for _ in range(9):
        assert api.get(result["download_url"]).status_code == 200
    assert api.get(result["download_url"]).status_code == 429  # Zoho: 10 downloads per minute


def test_unknown_urls_and_methods_answer_in_json(api: Api):
    unknown = api.get("/crm/v8/Accounts/1/Nothing/Here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "INVALID_URL_PATTERN"
    validate_error(unknown.json())
    method = api.patch("/crm/v8/Accounts")
    assert method.status_code == 400 and method.json()["code"] == "INVALID_REQUEST_METHOD"
    module = api.get("/crm/v8/Leads", params={"fields": "Last_Name"})
    assert module.status_code == 400 and module.json()["code"] == "INVALID_MODULE"


def test_seeding_is_deterministic_and_links_deals_to_products(zoho: ZohoSandbox):
    def seeded() -> list[tuple[str, str, float]]:
        zoho.control.zoho.reset()
        org_id = zoho.org("eu")["id"]
        answer = zoho.control.zoho.seed(org_id=org_id, accounts=20, products=5, deals=10, invoices=8, seed=42)
        assert answer["created"] == {"accounts": 20, "contacts": 0, "products": 5, "deals": 10, "invoices": 8}
        api = zoho.api("eu")
        deals = api.post("/crm/v8/coql", {"select_query": "select Deal_Name, Stage, Amount from Deals where "
                                                           "Deal_Name like 'Deal %' order by id"}).json()["data"]
        return [(deal["id"], deal["Stage"], deal["Amount"]) for deal in deals]

    first = seeded()
    assert len(first) == 10 and len({stage for _, stage, _ in first}) > 2
    assert seeded() == first
    api = zoho.api("eu")
    products = api.get(f"/crm/v8/Deals/{first[0][0]}/Products", params={"fields": "Product_Name"}).json()["data"]
    assert 1 <= len(products) <= 3
    invoice = api.post("/crm/v8/coql", {"select_query": "select Subject from Invoices where Subject like "
                                                         "'Invoice %' limit 1"}).json()["data"][0]
    lines = api.get(f"/crm/v8/Invoices/{invoice['id']}").json()["data"][0]["Invoiced_Items"]
    assert len(lines) == 3 and all(line["Product_Name"]["name"] for line in lines)
