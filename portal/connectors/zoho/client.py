"""The Zoho CRM API v8: paged reads with mandatory ``fields``, batched writes with per-record results, search,
COQL, Bulk Read, metadata and notification channels, in Zoho's error shapes (FACTS.md §2-§7).

Knows Zoho's URLs, headers, paging, batching and errors; nothing of mapping or of Xero.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import requests

from portal.connectors.base import ApiClient, Request, TokenSource, chunked
from portal.connectors.errors import (
    AuthExpired,
    AuthRevoked,
    Conflict,
    ConnectorError,
    FieldError,
    Invalid,
    NotFound,
    RateLimited,
    Transient,
)
from portal.connectors.results import RecordResult

# Zoho: per_page ≤ 200; `page` only reaches record 2,000, then page_token (FACTS.md §3).
PER_PAGE = 200
DISCRETE_PAGE_LIMIT = 10
MAX_FIELDS = 50
MAX_BATCH = 100
MAX_IDS_PER_GET = 100
MAX_COQL_ROWS = 2000


class ZohoClient(ApiClient):
    side = "zoho"

    def __init__(self, api_domain: str, tokens: TokenSource, **kwargs: Any) -> None:
        super().__init__(api_domain.rstrip("/") + "/crm/v8", tokens, **kwargs)
        self.api_domain = api_domain.rstrip("/")

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Zoho-oauthtoken {token}"}  # not Bearer (FACTS.md §2)

    def error_for(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        body = _json_or_none(response)
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        # Some APIs wrap a request-level error in a list under their resource key: {"data": [...]}, {"watch": [...]}.
        wrapped = next((value[0] for value in body.values() if isinstance(value, list) and value
                        and isinstance(value[0], dict)), None) if isinstance(body, dict) and not message else None
        details = body.get("details") if isinstance(body, dict) else None
        if wrapped is not None:
            code = str(wrapped.get("code", ""))
            message = str(wrapped.get("message", ""))
            details = wrapped.get("details")
        message = message or code or response.text[:300] or f"HTTP {status}"
        if code == "INVALID_TOKEN" or (status == 401 and code not in ("OAUTH_SCOPE_MISMATCH",)):
            # INVALID_TOKEN: expired or revoked; refresh once, then flag the tenant (FACTS.md §3).
            return AuthExpired(message, status=status, code=code)
        if code == "OAUTH_SCOPE_MISMATCH":
            return AuthRevoked(message, status=status, code=code)
        if status == 404:
            return NotFound(message, status=status, code=code)
        if status == 429:
            # Zoho sends no Retry-After for either credits or concurrency (FACTS.md §5).
            return RateLimited(message, None, status=status, code=code)
        if status == 412:
            return Conflict(message, status=status, code=code)
        if status >= 500:
            return Transient(message, status=status, code=code)
        return Invalid(message, [FieldError(message, field=_api_name(details), code=code)], status=status,
                       code=code, payload=body)

    # --- reads -----------------------------------------------------------------------------------------------

    def pages(self, module: str, fields: Sequence[str], *, modified_since: datetime | None = None,
              sort_by: str = "id", sort_order: str = "asc", params: dict[str, Any] | None = None,
              ) -> Iterator[list[dict[str, Any]]]:
        """Every record of a module, page by page; ``page`` up to record 2,000, then ``page_token``."""
        first, *rest = list(chunked(_with_id(fields), MAX_FIELDS))
        base = {**(params or {}), "fields": ",".join(first), "per_page": PER_PAGE, "sort_by": sort_by,
                "sort_order": sort_order}
        headers = {"If-Modified-Since": modified_since.isoformat()} if modified_since else {}
        page, page_token = 1, None
        while True:
            query = {**base, "page_token": page_token} if page_token else {**base, "page": page}
            data = self.fetch(module, query, headers, endpoint=f"GET {module}")
            records = data.get("data", [])
            if records and rest:
                self._fill_fields(module, records, rest)
            if records:
                yield records
            info = data.get("info") or {}
            if not info.get("more_records"):
                return
            if page < DISCRETE_PAGE_LIMIT and not page_token:
                page += 1
            else:
                page_token = info.get("next_page_token")
                if not page_token:
                    raise Transient(f"Zoho said more {module} records exist but gave no page token")

    def by_ids(self, module: str, ids: Iterable[str], fields: Sequence[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        field_chunks = list(chunked(_with_id(fields), MAX_FIELDS))
        for id_chunk in chunked(list(dict.fromkeys(ids)), MAX_IDS_PER_GET):
            data = self.fetch(module, {"ids": ",".join(id_chunk), "fields": ",".join(field_chunks[0])}, {},
                             endpoint=f"GET {module}")
            records = data.get("data", [])
            if records and len(field_chunks) > 1:
                self._fill_fields(module, records, field_chunks[1:])
            found.extend(records)
        return found

    def get(self, module: str, record_id: str) -> dict[str, Any]:
        """One record with every field and its subforms (e.g. Invoiced_Items), which list calls leave out."""
        data = self.fetch(f"{module}/{record_id}", {}, {}, endpoint=f"GET {module}/{{id}}")
        records = data.get("data") or []
        if not records:
            raise NotFound(f"{module} {record_id} not found", status=404)
        record: dict[str, Any] = records[0]
        return record

    def search(self, module: str, *, criteria: str | None = None, email: str | None = None,
               word: str | None = None, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": PER_PAGE}
        if criteria:
            params["criteria"] = criteria
        elif email:
            params["email"] = email
        elif word:
            params["word"] = word
        else:
            raise ValueError("a search needs criteria, an email or a word")
        if fields:
            params["fields"] = ",".join(list(fields)[:MAX_FIELDS])
        results: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self.fetch(f"{module}/search", {**params, "page": page}, {}, endpoint=f"GET {module}/search")
            results.extend(data.get("data", []))
            if not (data.get("info") or {}).get("more_records") or len(results) >= 2000:
                return results
            page += 1

    def deleted(self, module: str, *, modified_since: datetime | None = None) -> list[dict[str, Any]]:
        headers = {"If-Modified-Since": modified_since.isoformat()} if modified_since else {}
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self.fetch(f"{module}/deleted", {"type": "all", "page": page, "per_page": PER_PAGE}, headers,
                             endpoint=f"GET {module}/deleted")
            found.extend(data.get("data", []))
            if not (data.get("info") or {}).get("more_records"):
                return found
            page += 1

    def coql(self, query: str) -> list[dict[str, Any]]:
        response = self.send(Request("POST", "coql", "POST coql", json={"select_query": query},
                                     headers={"Content-Type": "application/json"}))
        if response.status_code == 204 or not response.content:
            return []
        rows: list[dict[str, Any]] = response.json().get("data", [])
        return rows

    def _fill_fields(self, module: str, records: list[dict[str, Any]], chunks: Sequence[Sequence[str]]) -> None:
        """Zoho returns at most 50 fields per call: fetch the rest for these ids and merge them in."""
        by_id = {record["id"]: record for record in records}
        for chunk in chunks:
            data = self.fetch(module, {"ids": ",".join(by_id), "fields": ",".join(chunk)}, {},
                             endpoint=f"GET {module}")
            for extra in data.get("data", []):
                by_id.get(extra["id"], {}).update(extra)

    def fetch(self, path: str, params: dict[str, Any], headers: dict[str, str], endpoint: str) -> dict[str, Any]:
        response = self.send(Request("GET", path, endpoint, params=params, headers=headers))
        # Zoho: 304 when nothing changed since If-Modified-Since, 204 with no body when nothing matches.
        if response.status_code in (204, 304) or not response.content:
            return {}
        data: dict[str, Any] = response.json()
        return data

    # --- metadata --------------------------------------------------------------------------------------------

    def modules(self) -> list[dict[str, Any]]:
        data = self.fetch("settings/modules", {}, {}, "GET settings/modules")
        modules: list[dict[str, Any]] = data.get("modules", [])
        return modules

    def fields(self, module: str) -> list[dict[str, Any]]:
        fields: list[dict[str, Any]] = self.fetch("settings/fields", {"module": module}, {},
                                                 "GET settings/fields").get("fields", [])
        return fields

    def org(self) -> dict[str, Any]:
        orgs: list[dict[str, Any]] = self.fetch("org", {}, {}, "GET org").get("org", [])
        if not orgs:
            raise NotFound("Zoho returned no organisation")
        return orgs[0]

    def taxes(self) -> list[dict[str, Any]]:
        data = self.fetch("org/taxes", {}, {}, "GET org/taxes")
        taxes: list[dict[str, Any]] = (data.get("org_taxes") or {}).get("taxes", [])
        return taxes

    def current_user(self) -> dict[str, Any]:
        users: list[dict[str, Any]] = self.fetch("users", {"type": "CurrentUser"}, {}, "GET users").get("users", [])
        return users[0] if users else {}

    # --- writes ----------------------------------------------------------------------------------------------

    def create(self, module: str, records: Sequence[dict[str, Any]], trigger: Sequence[str] = ()) -> list[RecordResult]:
        return self._write("POST", module, module, records, {"trigger": list(trigger)})

    def update(self, module: str, records: Sequence[dict[str, Any]], trigger: Sequence[str] = ()) -> list[RecordResult]:
        return self._write("PUT", module, module, records, {"trigger": list(trigger)})

    def upsert(self, module: str, records: Sequence[dict[str, Any]], duplicate_check_fields: Sequence[str],
               trigger: Sequence[str] = ()) -> list[RecordResult]:
        """Insert or update by unique fields: safe to repeat after a lost answer, unlike a plain insert."""
        return self._write("POST", f"{module}/upsert", module, records,
                           {"trigger": list(trigger), "duplicate_check_fields": list(duplicate_check_fields)},
                           idempotent=True)

    def delete(self, module: str, ids: Sequence[str]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for chunk in chunked(list(ids), MAX_BATCH):
            response = self.send(Request("DELETE", module, f"DELETE {module}",
                                         params={"ids": ",".join(chunk), "wf_trigger": "false"},
                                         records=len(chunk)))
            results.extend(_record_results(response, len(chunk)))
        return results

    def _write(self, method: str, path: str, module: str, records: Sequence[dict[str, Any]],
               extra: dict[str, Any], idempotent: bool | None = None) -> list[RecordResult]:
        results: list[RecordResult] = []
        for chunk in chunked(list(records), MAX_BATCH):
            request = Request(
                method, path, f"{method} {path}", json={"data": list(chunk), **extra},
                headers={"Content-Type": "application/json"}, records=len(chunk),
                # An update or upsert repeated is harmless; a repeated insert would create a second record.
                idempotent=idempotent if idempotent is not None else method == "PUT",
            )
            try:
                response = self.send(request)
            except Invalid as invalid:
                # When every record of a batch is refused Zoho answers 400, still with one item per record.
                items = invalid.payload.get("data") if isinstance(invalid.payload, dict) else None
                if isinstance(items, list) and len(items) == len(chunk):
                    results.extend(_results_from_items(items))
                else:
                    results.extend(RecordResult(ok=False, errors=list(invalid.details) or [FieldError(invalid.message)])
                                   for _ in chunk)
                continue
            results.extend(_record_results(response, len(chunk)))
        return results

    # --- notifications (watch channels) ----------------------------------------------------------------------

    def watch(self, channels: Sequence[dict[str, Any]], renew: bool = False) -> list[RecordResult]:
        response = self.send(Request("PUT" if renew else "POST", "actions/watch", "POST actions/watch",
                                     json={"watch": list(channels)}, headers={"Content-Type": "application/json"}))
        return _record_results(response, len(channels), key="watch")

    def unwatch(self, channel_ids: Sequence[str]) -> None:
        self.send(Request("DELETE", "actions/watch", "DELETE actions/watch",
                          params={"channel_ids": ",".join(channel_ids)}))

    def watched(self) -> list[dict[str, Any]]:
        channels: list[dict[str, Any]] = self.fetch("actions/watch", {}, {}, "GET actions/watch").get("watch", [])
        return channels

    # --- Bulk Read (historical exports) ----------------------------------------------------------------------

    def bulk_read(self, module: str, fields: Sequence[str], criteria: dict[str, Any] | None = None,
                  page: int = 1) -> str:
        query: dict[str, Any] = {"module": {"api_name": module}, "fields": list(fields), "page": page}
        if criteria:
            query["criteria"] = criteria
        response = self.send(Request("POST", f"{self.api_domain}/crm/bulk/v8/read", "POST bulk/read",
                                     json={"query": query}, headers={"Content-Type": "application/json"},
                                     idempotent=False))
        job_id: str = response.json()["data"][0]["details"]["id"]
        return job_id

    def bulk_read_status(self, job_id: str) -> dict[str, Any]:
        response = self.send(Request("GET", f"{self.api_domain}/crm/bulk/v8/read/{job_id}", "GET bulk/read"))
        status: dict[str, Any] = response.json()["data"][0]
        return status

    def bulk_read_rows(self, job_id: str) -> list[dict[str, str]]:
        response = self.send(Request("GET", f"{self.api_domain}/crm/bulk/v8/read/{job_id}/result",
                                     "GET bulk/read/result"))
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            name = archive.namelist()[0]
            text = archive.read(name).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))


def _with_id(fields: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(["id", *fields]))


def _record_results(response: requests.Response, expected: int, key: str = "data") -> list[RecordResult]:
    """Zoho answers one item per input, in input order, whatever the HTTP status (200, 201, 207...)."""
    items = (response.json() or {}).get(key, []) if response.content else []
    if len(items) != expected:
        raise Transient(f"Zoho answered {len(items)} results for {expected} records")
    return _results_from_items(items)


def _results_from_items(items: list[dict[str, Any]]) -> list[RecordResult]:
    results = []
    for item in items:
        details = item.get("details") or {}
        if item.get("status") == "success":
            results.append(RecordResult(ok=True, remote_id=str(details.get("id")) if details.get("id") else None,
                                        record=details, action=item.get("action")))
        else:
            message = str(item.get("message", ""))
            # Zoho's messages are terse ("invalid data"); the field it points at is what a user can act on.
            where = details.get("json_path") or _api_name(details) if isinstance(details, dict) else None
            if where:
                message = f"{message} ({_JSON_PATH_RECORD.sub('', str(where))})"
            if isinstance(details, dict) and details.get("expected_data_type"):
                message = f"{message}, expected {details['expected_data_type']}"
            results.append(RecordResult(ok=False, errors=[FieldError(
                message=message, field=_api_name(details), code=item.get("code"),
            )], record=details if isinstance(details, dict) else None))
    return results


_JSON_PATH_RECORD = re.compile(r"^\$\.data\[\d+\]\.")


def _api_name(details: Any) -> str | None:
    return str(details["api_name"]) if isinstance(details, dict) and details.get("api_name") else None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
