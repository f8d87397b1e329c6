"""Bulk Read (``/crm/bulk/v8/read``): export a module to a zip holding one CSV, for historical syncs.

Zoho (FACTS.md §7): a job goes ADDED → IN PROGRESS → COMPLETED; a page holds up to 200,000 records; the CSV
has an ``id`` column, lookups as ids (``Lookup.Field`` columns for the target's fields) and ISO-8601
datetimes; result downloads are limited to 10 per minute. The sandbox exports the data as it was when the job
was created and reveals it after ``bulk_read_seconds`` of the sandbox clock.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import threading
import zipfile
from collections import defaultdict, deque
from typing import Any

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.delivery import Outbox
from portal.sandbox.core.store import Store
from portal.sandbox.zoho.catalog import ModuleDef
from portal.sandbox.zoho.errors import ZohoError
from portal.sandbox.zoho.metadata import minified_user
from portal.sandbox.zoho.query import Compare, Condition, Group, QueryError, compile_condition
from portal.sandbox.zoho.records import Records, Row
from portal.sandbox.zoho.state import Metadata, Org, Orgs, load_settings
from portal.sandbox.zoho.values import text_of

PER_PAGE = 200_000
COMPARATORS = {"equal": "equals", "not_equal": "not_equal", "in": "in", "not_in": "not_in",
               "greater_than": "greater_than", "greater_equal": "greater_equal", "less_than": "less_than",
               "less_equal": "less_equal", "between": "between", "not_between": "not_between",
               "contains": "contains", "not_contains": "not_contains", "starts_with": "starts_with",
               "ends_with": "ends_with"}


def _bad(message: str, **details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_DATA", message, details)


class BulkReads:
    def __init__(self, store: Store, orgs: Orgs, records: Records, clock: SandboxClock, outbox: Outbox) -> None:
        self.store = store
        self.orgs = orgs
        self.records = records
        self.clock = clock
        self.outbox = outbox
        self._downloads: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def create(self, org: Org, metadata: Metadata, user_id: str, body: Any, base_url: str) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
            raise ZohoError(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "query"})
        query = body["query"]
        module_ref = query.get("module")
        module_name = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
        module = metadata.module(str(module_name or ""))
        if module is None:
            raise _bad("invalid data", api_name="module")
        fields = query.get("fields") or []
        if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
            raise _bad("invalid data", api_name="fields")
        columns = self._columns(metadata, module, fields)
        condition = self._criteria(query.get("criteria")) if query.get("criteria") else None
        page = query.get("page", 1)
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise _bad("invalid data", api_name="page")
        callback = body.get("callback")
        if callback is not None and (not isinstance(callback, dict) or not str(callback.get("url", "")).startswith(
                ("http://", "https://")) or callback.get("method", "post") != "post"):
            raise _bad("invalid data", api_name="callback")
        rows, more = self._select(org, module, condition, page)
        now = self.clock.now()
        job_id = str(self.orgs.new_ids(org, 1)[0])
        archive = self._archive(org, metadata, module, columns, rows, job_id)
        job = {
            "id": job_id, "module": module.api_name, "module_id": module.id, "fields": fields,
            "criteria_echo": self._echo(module, condition), "page": page, "count": len(rows), "more_records": more,
            "next_page_token": secrets.token_hex(16) if more else None, "created_by": user_id,
            "created_at": now, "callback": callback,
        }
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT INTO zoho_bulk_job (id, org_id, data, result, created_at) VALUES (?, ?, ?, ?, ?)",
                (job_id, org.id, json.dumps(job), archive, now))
        delay = load_settings(self.store)["bulk_read_seconds"]
        if callback is not None:
            payload = {"job_id": job_id, "operation": "read", "state": "COMPLETED",
                       "query": self._query_json(job), "result": self._result_json(job)}
            self.outbox.enqueue("zoho", "bulk-callback", callback["url"], json.dumps(payload).encode(),
                                {"Content-Type": "application/json"}, delay_seconds=delay)
        user = org.user(user_id) or org.current_user
        return {"status": "success", "code": "ADDED_SUCCESSFULLY", "message": "Added successfully.",
                "details": {"id": job_id, "operation": "read", "state": "ADDED", "created_by": minified_user(user),
                            "created_time": org.format_time(now)}}

    def _columns(self, metadata: Metadata, module: ModuleDef, fields: list[str]) -> list[str]:
        if not fields:
            return ["id", *[f.api_name for f in module.fields if f.data_type != "subform"]]
        columns = ["id"]
        for name in fields:
            lookup, _, target_field = name.partition(".")
            f = module.field_map.get(lookup)
            if f is None or f.data_type == "subform":
                raise _bad("invalid data", api_name=name)
            if target_field:
                target = metadata.modules.get(f.lookup or "")
                if target is None or target_field not in target.field_map:
                    raise _bad("invalid data", api_name=name)
            if name != "id":
                columns.append(name)
        return columns

    def _criteria(self, raw: Any) -> Condition:
        if not isinstance(raw, dict):
            raise _bad("invalid data", api_name="criteria")
        if "group" in raw:
            operator = raw.get("group_operator", "and")
            if operator not in ("and", "or") or not isinstance(raw["group"], list) or not raw["group"]:
                raise _bad("invalid data", api_name="criteria")
            return Group(operator, [self._criteria(item) for item in raw["group"]])
        field_ref = raw.get("field")
        name = field_ref.get("api_name") if isinstance(field_ref, dict) else raw.get("api_name")
        comparator = COMPARATORS.get(str(raw.get("comparator")))
        if not name or comparator is None:
            raise _bad("invalid data", api_name="criteria")
        value = raw.get("value")
        values = value if isinstance(value, list) else [value]
        return Compare(str(name), comparator, values)

    def _echo(self, module: ModuleDef, condition: Condition | None) -> dict[str, Any] | None:
        """The criteria as the job details read them back: fields with their ids."""
        if condition is None:
            return None
        if isinstance(condition, Group):
            return {"type": None, "group_operator": condition.operator,
                    "group": [self._echo(module, item) for item in condition.items]}
        assert isinstance(condition, Compare)
        f = module.field_map.get(condition.field)
        comparator = next(name for name, op in COMPARATORS.items() if op == condition.operator)
        value = condition.values if condition.operator in ("in", "not_in", "between", "not_between") \
            else condition.values[0]
        return {"type": None, "field": {"api_name": condition.field, "id": f.id if f else None},
                "comparator": comparator, "value": value}

    def _select(self, org: Org, module: ModuleDef, condition: Condition | None, page: int) -> tuple[list[Row], bool]:
        params: list[Any] = [org.id, module.api_name]
        where = ""
        if condition is not None:
            try:
                where = " AND " + compile_condition(module, condition, params)
            except QueryError as error:
                raise _bad("invalid data", **error.details) from None
        params += [PER_PAGE + 1, (page - 1) * PER_PAGE]
        rows = self.store.query(
            "SELECT id, module, display, data, created_at, modified_at, created_by, modified_by FROM zoho_record "  # noqa: S608
            f"WHERE org_id = ? AND module = ?{where} ORDER BY id LIMIT ? OFFSET ?", params)
        selected = [Row.from_sql(row) for row in rows]
        return selected[:PER_PAGE], len(selected) > PER_PAGE

    def _archive(self, org: Org, metadata: Metadata, module: ModuleDef, columns: list[str], rows: list[Row],
                 job_id: str) -> bytes:
        targets: dict[str, dict[str, Any]] = {}
        dotted = [column for column in columns if "." in column]
        if dotted:
            wanted = {row.data.get(column.split(".")[0]) for row in rows for column in dotted}
            found = self.records.get_many(org, [int(value) for value in wanted if value])
            targets = {str(key): row.data for key, row in found.items()}
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([self._cell(org, module, row, column, targets) for column in columns])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{job_id}.csv", text.getvalue())
        return buffer.getvalue()

    def _cell(self, org: Org, module: ModuleDef, row: Row, column: str, targets: dict[str, dict[str, Any]]) -> str:
        if column == "id":
            return str(row.id)
        if column == "Created_Time":
            return org.format_time(row.created_at)
        if column == "Modified_Time":
            return org.format_time(row.modified_at)
        if column == "Created_By":
            return row.created_by
        if column == "Modified_By":
            return row.modified_by
        lookup, _, target_field = column.partition(".")
        value = row.data.get(lookup)
        if target_field:
            return text_of(targets.get(str(value), {}).get(target_field)) if value else ""
        f = module.field_map[column]
        if f.data_type == "datetime" and value is not None:
            return org.format_time(value)
        return text_of(value)

    def _state(self, job: dict[str, Any]) -> str:
        elapsed = self.clock.now() - job["created_at"]
        total = load_settings(self.store)["bulk_read_seconds"]
        if elapsed >= total:
            return "COMPLETED"
        return "ADDED" if elapsed < total / 3 else "IN PROGRESS"

    def _load(self, org: Org, job_id: str) -> dict[str, Any]:
        row = self.store.query_one("SELECT data FROM zoho_bulk_job WHERE id = ? AND org_id = ?", (job_id, org.id))
        if row is None:
            raise ZohoError(404, "RESOURCE_NOT_FOUND", "The requested resource doesn't exist.",
                            {"resource": "job_id"})
        data: dict[str, Any] = json.loads(row["data"])
        return data

    def _query_json(self, job: dict[str, Any]) -> dict[str, Any]:
        return {"module": {"api_name": job["module"], "id": job["module_id"]}, "cvid": None,
                "fields": job["fields"], "page": job["page"], "criteria": job.get("criteria_echo")}

    def _result_json(self, job: dict[str, Any]) -> dict[str, Any]:
        return {"page": job["page"], "count": job["count"], "download_url": f"/crm/bulk/v8/read/{job['id']}/result",
                "per_page": PER_PAGE, "more_records": job["more_records"],
                "next_page_token": job["next_page_token"]}

    def describe(self, org: Org, job_id: str) -> dict[str, Any]:
        job = self._load(org, job_id)
        state = self._state(job)
        user = org.user(job["created_by"]) or org.current_user
        described: dict[str, Any] = {
            "id": job["id"], "operation": "read", "state": state, "query": self._query_json(job),
            "created_by": minified_user(user), "created_time": org.format_time(job["created_at"]),
            "file_type": "csv",
        }
        if state == "COMPLETED":
            described["result"] = self._result_json(job)
        return described

    def download(self, org: Org, job_id: str) -> bytes:
        job = self._load(org, job_id)
        if self._state(job) != "COMPLETED":
            raise ZohoError(400, "RESOURCE_NOT_FOUND", "The requested resource doesn't exist.",
                            {"resource": "job_id"})
        limit = int(load_settings(self.store)["bulk_downloads_per_minute"])
        now = self.clock.now()
        with self._lock:
            recent = self._downloads[org.id]
            while recent and recent[0] <= now - 60:
                recent.popleft()
            # Zoho: at most 10 result downloads per minute (FACTS.md §7).
            if len(recent) >= limit:
                raise ZohoError(429, "TOO_MANY_REQUESTS", "download limit exceeded: at most "
                                f"{limit} downloads per minute")
            recent.append(now)
        row = self.store.query_one("SELECT result FROM zoho_bulk_job WHERE id = ?", (job_id,))
        return bytes(row["result"]) if row else b""

    def reset(self) -> None:
        with self._lock:
            self._downloads.clear()
