"""The official Zoho CRM v8 Python SDK (PyPI ``zohocrmsdk8-0``) against the sandbox, configured with nothing but
the sandbox URLs and the sandbox client: it runs its own token exchange and refresh (FACTS.md, "What the official
Python SDK expects of a server")."""

from __future__ import annotations

import csv
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.api.logger import Logger
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
from zohocrmsdk.src.com.zoho.crm.api.header_map import HeaderMap
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.modules import APIException as ModulesAPIException
from zohocrmsdk.src.com.zoho.crm.api.modules import ModulesOperations
from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.record import (
    ActionWrapper,
    APIException,
    BodyWrapper,
    DeleteRecordsParam,
    Field,
    GetRecordsHeader,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

from tests.sandbox.zoho.conftest import REDIRECT_URI, ZohoSandbox


class _MalformedRecords(logging.Filter):
    """The SDK logs some errors with arguments its format string does not take (``error(MESSAGE, exc)``); pytest's
    log capture turns such records into test failures, so they are made well-formed first."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.getMessage()
        except TypeError:
            record.msg, record.args = f"{record.msg} {record.args}", ()
        return True


def initialise(zoho: ZohoSandbox, tmp_path: Path, token: OAuthToken) -> FileStore:
    sdk_logger = logging.getLogger("SDKLogger")
    if not any(isinstance(f, _MalformedRecords) for f in sdk_logger.filters):
        sdk_logger.addFilter(_MalformedRecords())
    store = FileStore(str(tmp_path / "zoho_tokens.csv"))
    environment = DataCenter.Environment(f"{zoho.base}/zoho", f"{zoho.accounts}/oauth/v2/token", f"{zoho.base}/zoho")
    Initializer.initialize(environment=environment, token=token, store=store,
                           sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=True),
                           resource_path=str(tmp_path),
                           logger=Logger.get_instance(Logger.Levels.INFO, str(tmp_path / "sdk.log")))
    return store


def contact(last_name: str, email: str) -> Record:
    record = Record()
    record.add_field_value(Field.Contacts.last_name(), last_name)
    record.add_field_value(Field.Contacts.email(), email)
    return record


def results(response: Any) -> list[Any]:
    body = response.get_object()
    assert isinstance(body, ActionWrapper), getattr(body, "__dict__", body)
    return list(body.get_data())


def test_the_official_sdk_works_against_the_sandbox_unchanged(zoho: ZohoSandbox, tmp_path: Path):
    code = zoho.consent_code(zoho.org("us")["id"])["code"]
    initialise(zoho, tmp_path, OAuthToken(client_id="sandbox-client", client_secret="sandbox-secret",
                                          grant_token=code, redirect_url=REDIRECT_URI))

    # Metadata: the SDK exchanged the code itself and reads modules and fields.
    modules = ModulesOperations().get_modules(ParameterMap(), HeaderMap()).get_object().get_modules()
    assert {"Accounts", "Contacts", "Products", "Deals", "Invoices"} <= {m.get_api_name() for m in modules}
    fields_param = ParameterMap()
    fields_param.add(GetFieldsParam.module, "Contacts")
    fields = {f.get_api_name(): f for f in FieldsOperations().get_fields(fields_param).get_object().get_fields()}
    assert fields["Email"].get_data_type() == "email" and fields["Last_Name"].get_system_mandatory() is True
    issued = zoho.call("GET", "tokens")["tokens"]
    assert [token["kind"] for token in issued] == ["refresh", "access"]

    # A batch with one invalid record: per-record results, the others created.
    batch = BodyWrapper()
    batch.set_data([contact("SdkOne", "one@sdk.example"), contact("SdkTwo", "two@sdk.example"),
                    contact("SdkThree", "one@sdk.example")])
    created = RecordOperations("Contacts").create_records(batch, HeaderMap())
    assert created.get_status_code() == 207
    first, second, third = results(created)
    assert isinstance(first, SuccessResponse) and isinstance(second, SuccessResponse)
    assert isinstance(third, APIException) and third.get_code().get_value() == "DUPLICATE_DATA"
    one_id = first.get_details()["id"]

    # Paging a list with fields.
    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Last_Name,Email,Account_Name")
    params.add(GetRecordsParam.per_page, 4)
    page = RecordOperations("Contacts").get_records(params, HeaderMap()).get_object()
    assert isinstance(page, ResponseWrapper) and page.get_info().get_more_records() is True
    next_params = ParameterMap()
    next_params.add(GetRecordsParam.fields, "Last_Name,Email,Account_Name")
    next_params.add(GetRecordsParam.per_page, 4)
    next_params.add(GetRecordsParam.page_token, page.get_info().get_next_page_token())
    following = RecordOperations("Contacts").get_records(next_params, HeaderMap()).get_object()
    first_ids = {record.get_id() for record in page.get_data()}
    assert first_ids.isdisjoint(record.get_id() for record in following.get_data())
    assert len(first_ids) == 4

    # Search.
    search = ParameterMap()
    search.add(SearchRecordsParam.criteria, "(Email:equals:one@sdk.example)")
    found = RecordOperations("Contacts").search_records(search, HeaderMap()).get_object()
    assert [str(record.get_id()) for record in found.get_data()] == [one_id]

    # Update.
    change = Record()
    change.add_field_value(Field.Contacts.title(), "Controller")
    update = BodyWrapper()
    update.set_data([change])
    updated = RecordOperations("Contacts").update_record(int(one_id), update, HeaderMap())
    assert isinstance(results(updated)[0], SuccessResponse)
    fetched = RecordOperations("Contacts").get_record(int(one_id), ParameterMap(), HeaderMap()).get_object()
    assert fetched.get_data()[0].get_key_value("Title") == "Controller"

    # 304 with If-Modified-Since (ISO-8601 with an offset, as the SDK sends it).
    headers = HeaderMap()
    headers.add(GetRecordsHeader.if_modified_since, datetime.now().astimezone() + timedelta(hours=2))
    list_params = ParameterMap()
    list_params.add(GetRecordsParam.fields, "Last_Name")
    assert RecordOperations("Contacts").get_records(list_params, headers).get_status_code() == 304

    # Delete.
    delete = ParameterMap()
    delete.add(DeleteRecordsParam.ids, one_id)
    deleted = results(RecordOperations("Contacts").delete_records(delete, HeaderMap()))
    assert isinstance(deleted[0], SuccessResponse)
    assert zoho.api("us").get(f"/crm/v8/Contacts/{one_id}").status_code == 204


def test_the_sdk_refreshes_its_own_token_when_it_expires(zoho: ZohoSandbox, tmp_path: Path):
    code = zoho.consent_code(zoho.org("eu")["id"])["code"]
    store_path = tmp_path / "zoho_tokens.csv"
    initialise(zoho, tmp_path, OAuthToken(client_id="sandbox-client", client_secret="sandbox-secret",
                                          grant_token=code, redirect_url=REDIRECT_URI))
    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Account_Name")
    assert RecordOperations("Accounts").get_records(params, HeaderMap()).get_status_code() == 200
    # An hour passes on the sandbox clock; the SDK learns it from the expiry it stored.
    zoho.advance(3600)
    rows = list(csv.reader(store_path.open()))
    expiry = rows[0].index("expiry_time")
    for row in rows[1:]:
        row[expiry] = str(int((datetime.now() - timedelta(minutes=1)).timestamp() * 1000))
    with store_path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    again = RecordOperations("Accounts").get_records(params, HeaderMap())
    assert again.get_status_code() == 200
    kinds = [(token["kind"], token["parent"] is not None) for token in zoho.call("GET", "tokens")["tokens"]]
    assert kinds == [("refresh", False), ("access", True), ("access", True)]


def test_the_sdk_reports_invalid_token_for_a_bad_token(zoho: ZohoSandbox, tmp_path: Path):
    initialise(zoho, tmp_path, OAuthToken(access_token="1000.not-a-real-token.nope"))
    answer = ModulesOperations().get_modules(ParameterMap(), HeaderMap())
    assert answer.get_status_code() == 401
    error = answer.get_object()
    assert isinstance(error, ModulesAPIException) and error.get_code().get_value() == "INVALID_TOKEN"
    # Record operations read field metadata first and raise the same error as an SDKException.
    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Account_Name")
    with pytest.raises(SDKException) as raised:
        RecordOperations("Accounts").get_records(params, HeaderMap())
    assert raised.value.details["code"] == "INVALID_TOKEN"
