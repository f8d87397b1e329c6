"""The Xero Accounting API: paged reads, batched writes with per-record results, Xero's error shapes.

Knows Xero's URLs, headers, paging, batching and errors (FACTS.md §2-§4); nothing of mapping or of Zoho.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import requests

from portal.connectors.base import ApiClient, Request, TokenSource, chunked
from portal.connectors.errors import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    FieldError,
    Invalid,
    NotFound,
    RateLimited,
    Transient,
)
from portal.connectors.results import RecordResult
from portal.connectors.xero.dates import if_modified_since_header

# Xero: pageSize up to 1000 on paged endpoints; Items, Accounts, TaxRates are never paged (FACTS.md §3).
MAX_PAGE_SIZE = 1000
PAGED_RESOURCES = frozenset({"Contacts", "Invoices", "CreditNotes", "Payments", "BankTransactions",
                             "ManualJournals", "Overpayments", "Prepayments", "PurchaseOrders"})
# Xero advises about 50 elements per request (FACTS.md §2).
MAX_BATCH = 50
# Comma-separated IDs travel in the query string; 100 GUIDs keep the URL well under common limits.
MAX_IDS_PER_CALL = 100
ID_FIELDS = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Items": "ItemID", "Payments": "PaymentID",
             "Accounts": "AccountID", "CreditNotes": "CreditNoteID", "TaxRates": "TaxType"}


class XeroClient(ApiClient):
    side = "xero"

    def __init__(self, api_url: str, xero_tenant_id: str, tokens: TokenSource, **kwargs: Any) -> None:
        super().__init__(api_url, tokens, **kwargs)
        self.xero_tenant_id = xero_tenant_id

    def default_headers(self) -> dict[str, str]:
        # Xero: every Accounting call names the organisation (FACTS.md §1, "Tenant header").
        return {"Accept": "application/json", "xero-tenant-id": self.xero_tenant_id}

    def error_for(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        body = _json_or_none(response)
        message = _xero_message(body) or response.text[:300] or f"HTTP {status}"
        if status == 400:
            errors = _validation_errors(body)
            return Invalid(errors[0].message if errors else message, errors, status=status, payload=body)
        if status == 401:
            # Xero: a token without the scope a call needs is a 401 too (AuthorizationUnsuccessful with an
            # insufficient_scope challenge); refreshing cannot cure that, only a new consent can.
            challenge = response.headers.get("WWW-Authenticate", "")
            if "insufficient_scope" in challenge or message == "AuthorizationUnsuccessful":
                return AuthRevoked(message, status=status, code="insufficient_scope")
            return AuthExpired(message, status=status)
        if status == 403:
            # Xero: a tenant the token is no longer connected to, or a missing scope; either way, reconnect.
            return AuthRevoked(message, status=status)
        if status == 404:
            return NotFound(message, status=status)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            return RateLimited(message, float(retry_after) if retry_after else None, status=status,
                               problem=response.headers.get("X-Rate-Limit-Problem"))
        if status >= 500:
            return Transient(message, status=status)
        return ConnectorError(message, status=status)

    # --- reads -----------------------------------------------------------------------------------------------

    def pages(self, resource: str, *, modified_since: datetime | None = None, where: str | None = None,
              order: str | None = None, params: dict[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every record, page by page (largest page Xero allows), oldest first unless ``order`` says otherwise."""
        query: dict[str, Any] = dict(params or {})
        if where:
            query["where"] = where
        if order:
            query["order"] = order
        headers = {"If-Modified-Since": if_modified_since_header(modified_since)} if modified_since else {}
        if resource not in PAGED_RESOURCES:
            yield self._get_list(resource, query, headers)
            return
        page = 1
        while True:
            data = self.fetch(resource, {**query, "page": page, "pageSize": MAX_PAGE_SIZE}, headers)
            records = data.get(resource, [])
            if records:
                yield records
            # Xero's pagination block says how many pages there are: no call is spent on an empty last page.
            page_count = (data.get("pagination") or {}).get("pageCount")
            if len(records) < MAX_PAGE_SIZE or (page_count is not None and page >= page_count):
                return
            page += 1

    def all(self, resource: str, **kwargs: Any) -> list[dict[str, Any]]:
        return [record for page in self.pages(resource, **kwargs) for record in page]

    def by_ids(self, resource: str, ids: Iterable[str], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Known records in as few calls as Xero allows (``IDs=`` filter, paged so invoices keep their lines)."""
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(ids))
        for chunk in chunked(unique, MAX_IDS_PER_CALL):
            query = {**(params or {}), "IDs": ",".join(chunk)}
            if resource in PAGED_RESOURCES:
                query.update(page=1, pageSize=MAX_PAGE_SIZE)
            found.extend(self._get_list(resource, query, {}))
        return found

    def get(self, resource: str, record_id: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        records = self._get_list(f"{resource}/{record_id}", dict(params or {}), {}, key=resource)
        if not records:
            raise NotFound(f"{resource} {record_id} not found", status=404)
        return records[0]

    def fetch(self, path: str, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        endpoint = "GET " + path.split("/", 1)[0]
        response = self.send(Request("GET", path, endpoint, params=params, headers=headers))
        # Xero: If-Modified-Since with nothing newer answers 304 on some endpoints, an empty list on others.
        if response.status_code == 304 or not response.content:
            return {}
        data: dict[str, Any] = response.json()
        return data

    def _get_list(self, path: str, params: dict[str, Any], headers: dict[str, str],
                  key: str | None = None) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.fetch(path, params, headers).get(key or path.split("/", 1)[0], [])
        return records

    def organisation(self) -> dict[str, Any]:
        return self._get_list("Organisation", {}, {}, key="Organisations")[0]

    def report(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.send(Request("GET", f"Reports/{name}", f"GET Reports/{name}", params=params))
        reports: list[dict[str, Any]] = response.json().get("Reports", [])
        if not reports:
            raise NotFound(f"report {name} is empty")
        return reports[0]

    # --- writes ----------------------------------------------------------------------------------------------

    def save(self, resource: str, records: Sequence[dict[str, Any]], *, method: str = "POST",
             params: dict[str, Any] | None = None) -> list[RecordResult]:
        """Create or update records in batches of 50 with ``summarizeErrors=false``: one result per record, in
        order. Each batch carries an Idempotency-Key derived from its content, so a retry never duplicates."""
        results: list[RecordResult] = []
        for chunk in chunked(list(records), MAX_BATCH):
            results.extend(self.save_batch(resource, chunk, method=method, params=params))
        return results

    def save_batch(self, resource: str, chunk: Sequence[dict[str, Any]], *, method: str = "POST",
                   idempotency_key: str | None = None, params: dict[str, Any] | None = None) -> list[RecordResult]:
        """One batch (at most 50) in one call; the caller may bring its own Idempotency-Key."""
        if len(chunk) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} {resource} per request")
        key = idempotency_key or self.idempotency_key(resource, method, chunk)
        return self._save_chunk(resource, chunk, method, params or {}, key)

    def put_one(self, resource: str, body: dict[str, Any]) -> RecordResult:
        """PUT one bare object: how Xero creates an account (OAS: PUT /Accounts takes one Account)."""
        request = Request("PUT", resource, f"PUT {resource}", json=body,
                          headers={"Content-Type": "application/json",
                                   "Idempotency-Key": self.idempotency_key(resource, "PUT", [body])}, records=1)
        try:
            response = self.send(request)
        except Invalid as invalid:
            return RecordResult(ok=False, errors=list(invalid.details) or [FieldError(invalid.message)])
        saved = response.json().get(resource, [])
        return _element_result(resource, saved[0]) if saved else RecordResult(ok=False, errors=[
            FieldError(f"Xero answered no {resource}")])

    def save_one(self, resource: str, record_id: str, body: dict[str, Any]) -> RecordResult:
        """POST one object to ``/{resource}/{id}`` (how Xero deletes a payment or archives an account)."""
        request = Request("POST", f"{resource}/{record_id}", f"POST {resource}/{{id}}", json=body,
                          headers={"Content-Type": "application/json",
                                   "Idempotency-Key": self.idempotency_key(resource, "POST", [body])}, records=1)
        try:
            response = self.send(request)
        except Invalid as invalid:
            return RecordResult(ok=False, errors=list(invalid.details) or [FieldError(invalid.message)])
        saved = response.json().get(resource, [])
        return _element_result(resource, saved[0]) if saved else RecordResult(ok=True, remote_id=record_id)

    def idempotency_key(self, resource: str, method: str, chunk: Sequence[dict[str, Any]]) -> str:
        digest = hashlib.sha256(
            json.dumps([self.xero_tenant_id, resource, method, list(chunk)], sort_keys=True, default=str).encode()
        ).hexdigest()
        return f"zx-{digest}"  # Xero: at most 128 characters (OAS parameter idempotencyKey)

    def _save_chunk(self, resource: str, chunk: Sequence[dict[str, Any]], method: str,
                    params: dict[str, Any], idempotency_key: str) -> list[RecordResult]:
        request = Request(
            method, resource, f"{method} {resource}", params={**params, "summarizeErrors": "false"},
            json={resource: list(chunk)}, headers={"Content-Type": "application/json",
                                                   "Idempotency-Key": idempotency_key},
            records=len(chunk),
        )
        try:
            response = self.send(request)
        except Invalid as invalid:
            # Some endpoints still answer a whole-batch 400 with per-element errors: spread them per record.
            elements = invalid.payload.get("Elements") if isinstance(invalid.payload, dict) else None
            if elements and len(elements) == len(chunk):
                return [_element_result(resource, element) for element in elements]
            reasons = list(invalid.details) or [FieldError(invalid.message)]
            return [RecordResult(ok=False, errors=reasons) for _ in chunk]
        saved = response.json().get(resource, [])
        if len(saved) != len(chunk):
            raise Transient(f"Xero answered {len(saved)} {resource} for {len(chunk)} sent")
        return [_element_result(resource, element) for element in saved]

    def delete(self, resource: str, record_id: str) -> None:
        """HTTP DELETE where Xero has it (Items answer 204; FACTS.md §4)."""
        self.send(Request("DELETE", f"{resource}/{record_id}", f"DELETE {resource}", idempotent=True))


def _element_result(resource: str, element: dict[str, Any]) -> RecordResult:
    errors = [FieldError(message=str(item.get("Message", "")), code="ValidationError")
              for item in element.get("ValidationErrors") or []]
    ok = element.get("StatusAttributeString", "OK") != "ERROR" and not errors
    id_field = ID_FIELDS.get(resource, "")
    return RecordResult(ok=ok, remote_id=element.get(id_field) if ok else None, record=element, errors=errors)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _xero_message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for key in ("Message", "Detail", "detail", "Title", "title"):
        if body.get(key):
            return str(body[key])
    return ""


def _validation_errors(body: Any) -> list[FieldError]:
    """Xero's ValidationException: ``Elements[i].ValidationErrors[j].Message`` (FACTS.md §6)."""
    if not isinstance(body, dict):
        return []
    errors: list[FieldError] = []
    for element in body.get("Elements") or []:
        for item in element.get("ValidationErrors") or []:
            errors.append(FieldError(message=str(item.get("Message", "")), code="ValidationError"))
    return errors
