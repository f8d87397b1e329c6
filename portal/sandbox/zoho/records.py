"""Records of every module: validated writes with Zoho's per-record results, reads in the API's JSON shape,
the recycle bin and related lists. The API and the record editor both write through here, so both fire the
same notifications.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.store import Store
from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.catalog import FieldDef, ModuleDef
from portal.sandbox.zoho.errors import record_error
from portal.sandbox.zoho.state import Metadata, Org, Orgs
from portal.sandbox.zoho.values import FieldError, discount_amount, parse_id, to_stored

MAX_WRITE = 100  # Zoho: at most 100 records per insert/update/upsert/delete (FACTS.md §3)
ROW_COLUMNS = "id, module, display, data, created_at, modified_at, created_by, modified_by"


@dataclass
class Change:
    """What a write did to one record: what notifications and workflow rules are told."""

    operation: str  # insert, update, delete
    module: str
    record_id: str
    affected_fields: list[str]
    values: dict[str, Any]


@dataclass
class WriteOutcome:
    results: list[dict[str, Any]]
    changes: list[Change] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return sum(1 for result in self.results if result.get("status") == "success")

    def http_status(self, success_status: int) -> int:
        """Zoho: 207 Multi-Status when a multi-record write partly succeeds (FACTS.md §3)."""
        if self.succeeded == len(self.results):
            return success_status
        if self.succeeded == 0:
            return 400
        return 207


@dataclass
class Row:
    id: int
    module: str
    display: str
    data: dict[str, Any]
    created_at: float
    modified_at: float
    created_by: str
    modified_by: str

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> Row:
        return cls(row["id"], row["module"], row["display"], json.loads(row["data"]), row["created_at"],
                   row["modified_at"], row["created_by"], row["modified_by"])


class Records:
    def __init__(self, store: Store, orgs: Orgs, clock: SandboxClock) -> None:
        self.store = store
        self.orgs = orgs
        self.clock = clock

    # --- reads -----------------------------------------------------------------------------------------------

    def get(self, org: Org, module: str, record_id: int) -> Row | None:
        row = self.store.query_one(
            f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE id = ? AND org_id = ? AND module = ?",  # noqa: S608
            (record_id, org.id, module))
        return Row.from_sql(row) if row else None

    def get_many(self, org: Org, ids: Iterable[int]) -> dict[int, Row]:
        wanted = list(dict.fromkeys(ids))
        found: dict[int, Row] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.store.query(
                f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE org_id = ? AND id IN ({marks})",  # noqa: S608
                (org.id, *chunk))
            found.update((row["id"], Row.from_sql(row)) for row in rows)
        return found

    def displays(self, org: Org, ids: Iterable[str]) -> dict[str, str]:
        numeric = [int(value) for value in set(ids) if value]
        names: dict[str, str] = {}
        for start in range(0, len(numeric), 500):
            chunk = numeric[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.store.query(
                f"SELECT id, display FROM zoho_record WHERE org_id = ? AND id IN ({marks})",  # noqa: S608
                (org.id, *chunk))
            names.update((str(row["id"]), row["display"]) for row in rows)
        return names

    def count(self, org: Org, module: str) -> int:
        row = self.store.query_one("SELECT COUNT(*) AS n FROM zoho_record WHERE org_id = ? AND module = ?",
                                   (org.id, module))
        return int(row["n"]) if row else 0

    # --- presentation ----------------------------------------------------------------------------------------

    def present(self, org: Org, metadata: Metadata, module: ModuleDef, rows: Sequence[Row],
                fields: Sequence[str] | None = None, full: bool = False) -> list[dict[str, Any]]:
        """Records in the API's JSON shape. ``fields`` None means every field; subforms only when ``full``
        (Zoho: list responses do not include subforms, FACTS.md §3)."""
        selected = [module.field_map[name] for name in fields] if fields is not None else list(module.fields)
        if not full:
            selected = [f for f in selected if f.data_type != "subform"]
        lookup_fields = [f for f in selected if f.data_type == "lookup"]
        subform_fields = [f for f in selected if f.data_type == "subform"]
        wanted: set[str] = set()
        for row in rows:
            for f in lookup_fields:
                value = row.data.get(f.api_name)
                if value:
                    wanted.add(value)
            for f in subform_fields:
                for line in row.data.get(f.api_name) or []:
                    if line.get("Product_Name"):
                        wanted.add(line["Product_Name"])
        names = self.displays(org, wanted) if wanted else {}
        users = {user["id"]: _user_ref(user) for user in org.users}
        # One converter per selected field, chosen once per call: a page is 200 records of up to 50 fields.
        converters = [(f.api_name, self._converter(org, metadata, f, names, users)) for f in selected]
        presented = []
        for row in rows:
            data = row.data
            record = {name: convert(row, data) for name, convert in converters}
            record["id"] = str(row.id)
            presented.append(record)
        return presented

    def _converter(self, org: Org, metadata: Metadata, f: FieldDef, names: dict[str, str],
                   users: dict[str, dict[str, Any]]) -> Any:
        name = f.api_name
        times: dict[float, str] = {}

        def time_of(epoch: float) -> str:
            text = times.get(epoch)
            if text is None:
                text = times[epoch] = org.format_time(epoch)
            return text

        if name == "Created_Time":
            return lambda row, data: time_of(row.created_at)
        if name == "Modified_Time":
            return lambda row, data: time_of(row.modified_at)
        if name == "Created_By":
            return lambda row, data: users.get(row.created_by)
        if name == "Modified_By":
            return lambda row, data: users.get(row.modified_by)
        data_type = f.data_type
        if data_type in ("ownerlookup", "userlookup"):
            return lambda row, data: users.get(data.get(name)) if data.get(name) else None
        if data_type == "lookup":
            # Zoho: lookups read back as {name, id} (FACTS.md §4).
            return lambda row, data: {"name": names.get(data[name], ""), "id": data[name]} if data.get(name) else None
        if data_type == "datetime":
            return lambda row, data: time_of(data[name]) if data.get(name) is not None else None
        if data_type == "subform":
            return lambda row, data: [self._line_out(org, metadata, f, line, names, users, row)
                                      for line in data.get(name) or []]
        return lambda row, data: data.get(name)

    def _line_out(self, org: Org, metadata: Metadata, subform: FieldDef, line: dict[str, Any],
                  names: dict[str, str], users: dict[str, dict[str, Any]], parent: Row) -> dict[str, Any]:
        module = metadata.modules[subform.subform or ""]
        out: dict[str, Any] = {}
        for f in module.fields:
            value = line.get(f.api_name)
            if f.api_name == "Product_Name" and value:
                out[f.api_name] = {"name": names.get(value, ""), "id": value}
            elif f.data_type == "linetax":
                out[f.api_name] = [dict(tax) for tax in value or []]
            else:
                out[f.api_name] = value
        out["Created_Time"] = org.format_time(parent.created_at)
        out["Modified_Time"] = org.format_time(parent.modified_at)
        out["Created_By"] = users.get(parent.created_by)
        out["Modified_By"] = users.get(parent.modified_by)
        out["Parent_Id"] = {"name": parent.display, "id": str(parent.id)}
        out["id"] = line["id"]
        return out

    # --- writes ----------------------------------------------------------------------------------------------

    def write(self, org: Org, module: ModuleDef, items: list[Any], operation: str, user_id: str,
              duplicate_check_fields: Sequence[str] | None = None) -> WriteOutcome:
        """Insert, update or upsert up to 100 records: one result per input, in input order."""
        metadata = self.orgs.metadata(org)
        outcome = WriteOutcome(results=[])
        # Zoho keeps record times to the second (they read back as ISO-8601 without fractions).
        now = float(int(self.clock.now()))
        with self.store.transaction() as connection:
            batch = _Batch(self, connection, org, metadata, module, user_id, now)
            for index, item in enumerate(items):
                result, change = batch.write_one(index, item, operation, duplicate_check_fields)
                outcome.results.append(result)
                if change is not None:
                    outcome.changes.append(change)
        return outcome

    def delete(self, org: Org, module: ModuleDef, ids: Sequence[str], user_id: str) -> WriteOutcome:
        outcome = WriteOutcome(results=[])
        now = float(int(self.clock.now()))
        with self.store.transaction() as connection:
            for raw in ids:
                record_id = parse_id(raw)
                row = None
                if record_id is not None:
                    found = connection.execute(
                        f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE id = ? AND org_id = ? AND module = ?",  # noqa: S608
                        (int(record_id), org.id, module.api_name)).fetchone()
                    row = Row.from_sql(found) if found else None
                if row is None:
                    outcome.results.append(record_error(
                        "INVALID_DATA", "the id given seems to be invalid", {"id": str(raw)}))
                    continue
                self._remove(connection, org, row, user_id, now)
                outcome.results.append({"code": "SUCCESS", "details": {"id": str(row.id)},
                                        "message": "record deleted", "status": "success"})
                outcome.changes.append(Change("delete", module.api_name, str(row.id), [], {}))
        return outcome

    def _remove(self, connection: sqlite3.Connection, org: Org, row: Row, user_id: str, now: float) -> None:
        connection.execute("DELETE FROM zoho_record WHERE id = ?", (row.id,))
        connection.execute("DELETE FROM zoho_unique WHERE record_id = ?", (row.id,))
        connection.execute("DELETE FROM zoho_relation WHERE record_id = ? OR related_id = ?", (row.id, row.id))
        # Zoho: deleted records sit in the recycle bin (60 days) and are listed by /deleted (FACTS.md §3).
        connection.execute(
            "INSERT OR REPLACE INTO zoho_deleted (id, org_id, module, display, type, deleted_at, deleted_by, "
            "created_by, data) VALUES (?, ?, ?, ?, 'recycle', ?, ?, ?, ?)",
            (row.id, org.id, row.module, row.display, now, user_id, row.created_by, json.dumps(row.data)))

    # --- related lists (Deals ↔ Products) --------------------------------------------------------------------

    def related_ids(self, org: Org, record_id: int, related_module: str) -> list[int]:
        rows = self.store.query(
            "SELECT related_id FROM zoho_relation WHERE org_id = ? AND record_id = ? AND related_module = ? "
            "ORDER BY linked_at, related_id", (org.id, record_id, related_module))
        return [row["related_id"] for row in rows]

    def link(self, org: Org, record_id: int, related_module: str, related_ids: Sequence[int]) -> None:
        now = self.clock.now()
        with self.store.transaction() as connection:
            for related_id in related_ids:
                connection.execute(
                    "INSERT OR IGNORE INTO zoho_relation (org_id, record_id, related_module, related_id, linked_at) "
                    "VALUES (?, ?, ?, ?, ?)", (org.id, record_id, related_module, related_id, now))

    def unlink(self, org: Org, record_id: int, related_module: str, related_ids: Sequence[int]) -> None:
        with self.store.transaction() as connection:
            for related_id in related_ids:
                connection.execute(
                    "DELETE FROM zoho_relation WHERE record_id = ? AND related_module = ? AND related_id = ?",
                    (record_id, related_module, related_id))


def _user_ref(user: dict[str, Any]) -> dict[str, Any]:
    return {"name": user["full_name"], "id": user["id"], "email": user["email"]}


def display_of(module: ModuleDef, data: dict[str, Any]) -> str:
    value = data.get(module.display_field)
    return "" if value is None else str(value)


class _Batch:
    """One write call: validates each record against the org's fields and checks duplicates against the
    database and against the records earlier in the same call."""

    def __init__(self, records: Records, connection: sqlite3.Connection, org: Org, metadata: Metadata,
                 module: ModuleDef, user_id: str, now: float) -> None:
        self.records = records
        self.connection = connection
        self.org = org
        self.metadata = metadata
        self.module = module
        self.user_id = user_id
        self.now = now

    def write_one(self, index: int, item: Any, operation: str,
                  duplicate_check_fields: Sequence[str] | None) -> tuple[dict[str, Any], Change | None]:
        path = f"$.data[{index}]"
        if not isinstance(item, dict):
            return record_error("INVALID_DATA", "invalid data",
                                {"json_path": path, "expected_data_type": "jsonobject"}), None
        existing: Row | None = None
        action = operation
        duplicate_field: str | None = None
        if operation == "update":
            if "id" not in item or item["id"] is None:
                return record_error("MANDATORY_NOT_FOUND", "required field not found",
                                    {"api_name": "id", "json_path": f"{path}.id"}), None
            existing = self._load(item["id"])
            if existing is None:
                return record_error("INVALID_DATA", "the id given seems to be invalid",
                                    {"api_name": "id", "json_path": f"{path}.id"}), None
        elif operation == "upsert":
            try:
                existing, duplicate_field = self._find_duplicate(item, duplicate_check_fields)
            except FieldError as error:
                return record_error(error.code, error.message, {**error.details, "json_path": path}), None
            action = "update" if existing is not None else "insert"
        try:
            data, affected = self._merge(item, existing, path)
            self._check_unique(data, existing, path)
        except _RecordError as error:
            return error.result, None
        row_id = existing.id if existing is not None else self.records.orgs.allocate_ids(
            self.connection, self.org, 1)[0]
        if existing is None and self.module.api_name == "Invoices":
            data["Invoice_Number"] = f"INV-{row_id % 10**7:07d}"
        display = display_of(self.module, data)
        if existing is None:
            self.connection.execute(
                "INSERT INTO zoho_record (id, org_id, module, display, data, created_at, modified_at, created_by, "
                "modified_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row_id, self.org.id, self.module.api_name, display, json.dumps(data), self.now, self.now,
                 self.user_id, self.user_id))
            created_at, created_by = self.now, self.user_id
        else:
            self.connection.execute(
                "UPDATE zoho_record SET display = ?, data = ?, modified_at = ?, modified_by = ? WHERE id = ?",
                (display, json.dumps(data), self.now, self.user_id, row_id))
            created_at, created_by = existing.created_at, existing.created_by
        self._index_unique(row_id, data)
        user = self.org.user(self.user_id) or self.org.current_user
        details = {
            "Modified_Time": self.org.format_time(self.now),
            "Modified_By": _user_ref(user),
            "Created_Time": self.org.format_time(created_at),
            "id": str(row_id),
            "Created_By": _user_ref(self.org.user(created_by) or user),
        }
        result: dict[str, Any] = {"code": "SUCCESS", "details": details,
                                  "message": "record added" if action == "insert" else "record updated",
                                  "status": "success"}
        if operation == "upsert":
            result["action"] = action
            result["duplicate_field"] = duplicate_field
        change_operation = "insert" if action == "insert" else "update"
        return result, Change(change_operation, self.module.api_name, str(row_id), affected, data)

    def _load(self, raw_id: Any) -> Row | None:
        record_id = parse_id(raw_id)
        if record_id is None:
            return None
        row = self.connection.execute(
            f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE id = ? AND org_id = ? AND module = ?",  # noqa: S608
            (int(record_id), self.org.id, self.module.api_name)).fetchone()
        return Row.from_sql(row) if row else None

    # Zoho: without duplicate_check_fields, upsert tries the system-defined unique field first, then the
    # user-defined unique fields (FACTS.md §3, upsert).
    def _find_duplicate(self, item: dict[str, Any],
                        duplicate_check_fields: Sequence[str] | None) -> tuple[Row | None, str | None]:
        if duplicate_check_fields:
            names = list(duplicate_check_fields)
        else:
            names = [self.module.system_unique] if self.module.system_unique else []
            names += [f.api_name for f in self.module.fields if f.unique and f.api_name not in names]
        for name in names:
            value = item.get(name)
            if value is None or value == "":
                continue
            f = self.module.field_map[name]
            try:
                stored = to_stored(f, value)
            except FieldError:
                continue
            if stored is None:
                continue
            row = self.connection.execute(
                "SELECT id FROM zoho_record WHERE org_id = ? AND module = ? "
                "AND lower(json_extract(data, ?)) = lower(?) ORDER BY id LIMIT 1",
                (self.org.id, self.module.api_name, f"$.{name}", stored)).fetchone()
            if row is not None:
                return self._load(row["id"]), name
        return None, None

    def _merge(self, item: dict[str, Any], existing: Row | None, path: str) -> tuple[dict[str, Any], list[str]]:
        data: dict[str, Any] = dict(existing.data) if existing is not None else {}
        affected: list[str] = []
        for key, value in item.items():
            f = self.module.field_map.get(key)
            # Zoho ignores keys that are not fields of the module and fields that are read-only.
            if f is None or f.read_only or key == "id":
                continue
            if f.data_type == "subform":
                stored = self._subform(f, value, existing, f"{path}.{key}")
            elif f.data_type == "linetax":
                continue
            else:
                try:
                    stored = to_stored(f, value)
                except FieldError as error:
                    raise _RecordError(record_error(error.code, error.message, {
                        **error.details, "api_name": key, "json_path": f"{path}.{key}"})) from None
                if stored is not None and f.data_type in catalog.LOOKUP_TYPES:
                    self._check_reference(f, stored, f"{path}.{key}")
            if data.get(key) != stored:
                affected.append(key)
            data[key] = stored
        if existing is None and not data.get("Owner"):
            data["Owner"] = self.user_id
        for f in self.module.fields:
            if f.mandatory and data.get(f.api_name) in (None, "", []):
                if existing is not None and f.api_name not in item:
                    continue
                raise _RecordError(record_error("MANDATORY_NOT_FOUND", "required field not found", {
                    "api_name": f.api_name, "json_path": f"{path}.{f.api_name}"}))
        self._compute(data)
        return data, affected

    def _check_reference(self, f: FieldDef, value: str, path: str) -> None:
        if f.data_type in ("ownerlookup", "userlookup"):
            if self.org.user(value) is None:
                raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                    "api_name": f.api_name, "json_path": path, "expected_data_type": f.data_type}))
            return
        row = self.connection.execute("SELECT module FROM zoho_record WHERE id = ? AND org_id = ?",
                                      (int(value), self.org.id)).fetchone()
        if row is None or row["module"] != f.lookup:
            raise _RecordError(record_error("INVALID_DATA", "the id given seems to be invalid", {
                "api_name": f.api_name, "json_path": path, "id": value}))

    def _subform(self, f: FieldDef, value: Any, existing: Row | None, path: str) -> list[dict[str, Any]]:
        """Zoho subforms on write: rows with an id update that row, rows without one are added, rows left
        out (or sent with ``_delete``) are removed."""
        sub = self.metadata.modules[f.subform or ""]
        if value is None:
            return []
        if not isinstance(value, list):
            raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                "api_name": f.api_name, "json_path": path, "expected_data_type": "jsonarray"}))
        old = {line["id"]: line for line in (existing.data.get(f.api_name) or [])} if existing else {}
        lines: list[dict[str, Any]] = []
        for index, raw in enumerate(value):
            line_path = f"{path}[{index}]"
            if not isinstance(raw, dict):
                raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                    "api_name": f.api_name, "json_path": line_path, "expected_data_type": "jsonobject"}))
            line_id = parse_id(raw.get("id")) if raw.get("id") is not None else None
            if raw.get("id") is not None and line_id not in old:
                raise _RecordError(record_error("INVALID_DATA", "the id given seems to be invalid", {
                    "api_name": "id", "json_path": f"{line_path}.id", "parent_api_name": f.api_name}))
            if "_delete" in raw:
                continue
            line = dict(old[line_id]) if line_id else {}
            for key, item in raw.items():
                sub_field = sub.field_map.get(key)
                if sub_field is None or sub_field.read_only or key == "id":
                    continue
                if sub_field.data_type == "linetax":
                    line[key] = self._line_tax(sub_field, item, f"{line_path}.{key}")
                    continue
                if key == "Discount":
                    # A percentage discount stays a percentage when the quantity or price changes later.
                    line["_discount"] = item
                    continue
                try:
                    stored = to_stored(sub_field, item)
                except FieldError as error:
                    raise _RecordError(record_error(error.code, error.message, {
                        **error.details, "api_name": key, "json_path": f"{line_path}.{key}",
                        "parent_api_name": f.api_name})) from None
                if stored is not None and sub_field.data_type in catalog.LOOKUP_TYPES:
                    self._check_reference(sub_field, stored, f"{line_path}.{key}")
                line[key] = stored
            for sub_field in sub.fields:
                if sub_field.mandatory and line.get(sub_field.api_name) in (None, ""):
                    raise _RecordError(record_error("MANDATORY_NOT_FOUND", "required field not found", {
                        "api_name": sub_field.api_name, "json_path": f"{line_path}.{sub_field.api_name}",
                        "parent_api_name": f.api_name}))
            line["id"] = line_id or str(self.records.orgs.allocate_ids(self.connection, self.org, 1)[0])
            self._price_line(line, f"{line_path}", f.api_name)
            line["Sequence_Number"] = len(lines) + 1
            lines.append(line)
        return lines

    def _line_tax(self, f: FieldDef, value: Any, path: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        taxes = dict(catalog.TAXES)
        if not isinstance(value, list):
            raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                "api_name": f.api_name, "json_path": path, "expected_data_type": "jsonarray"}))
        out = []
        for index, tax in enumerate(value):
            name = tax.get("name") if isinstance(tax, dict) else None
            if name not in taxes:
                raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                    "api_name": "name", "json_path": f"{path}[{index}].name", "parent_api_name": f.api_name}))
            percentage = tax.get("percentage", taxes[name])
            if isinstance(percentage, bool) or not isinstance(percentage, int | float):
                raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                    "api_name": "percentage", "json_path": f"{path}[{index}].percentage",
                    "expected_data_type": "double"}))
            out.append({"name": name, "percentage": float(percentage), "id": self._tax_id(name)})
        return out

    def _tax_id(self, name: str) -> str:
        position = [tax for tax, _ in catalog.TAXES].index(name)
        return str(self.org.prefix * 10**12 + 800_001 + position)

    def _price_line(self, line: dict[str, Any], path: str, parent: str) -> None:
        """Zoho computes each line's totals server-side; the list price defaults to the product's unit price."""
        if line.get("List_Price") is None:
            product = self.connection.execute("SELECT data FROM zoho_record WHERE id = ?",
                                              (int(line["Product_Name"]),)).fetchone()
            line["List_Price"] = json.loads(product["data"]).get("Unit_Price") or 0.0 if product else 0.0
        total = round(float(line["Quantity"]) * float(line["List_Price"]), 2)
        try:
            discount = round(discount_amount(line.get("_discount", line.get("Discount")), total), 2)
        except (TypeError, ValueError):
            raise _RecordError(record_error("INVALID_DATA", "invalid data", {
                "api_name": "Discount", "json_path": f"{path}.Discount", "parent_api_name": parent,
                "expected_data_type": "double"})) from None
        after_discount = round(total - discount, 2)
        tax = round(sum(after_discount * tax["percentage"] / 100 for tax in line.get("Line_Tax") or []), 2)
        for item in line.get("Line_Tax") or []:
            item["value"] = round(after_discount * item["percentage"] / 100, 2)
        line.update({"Discount": discount, "Total": total, "Total_After_Discount": after_discount, "Tax": tax,
                     "Net_Total": round(after_discount + tax, 2)})

    def _compute(self, data: dict[str, Any]) -> None:
        name = self.module.api_name
        if name == "Contacts":
            data["Full_Name"] = " ".join(part for part in (data.get("First_Name"), data.get("Last_Name")) if part)
        elif name == "Deals":
            if data.get("Probability") is None and data.get("Stage"):
                data["Probability"] = catalog.STAGE_PROBABILITY.get(data["Stage"])
            amount, probability = data.get("Amount"), data.get("Probability")
            data["Expected_Revenue"] = (round(amount * probability / 100, 2)
                                        if amount is not None and probability is not None else None)
        elif name == "Invoices":
            lines = data.get("Invoiced_Items") or []
            sub_total = round(sum(line["Net_Total"] for line in lines), 2)
            discount = data.get("Discount") or 0.0
            adjustment = data.get("Adjustment") or 0.0
            data.update({"Sub_Total": sub_total, "Tax": 0.0,
                         "Grand_Total": round(sub_total - discount + adjustment, 2)})

    def _check_unique(self, data: dict[str, Any], existing: Row | None, path: str) -> None:
        for f in self.module.fields:
            if not f.unique or data.get(f.api_name) in (None, ""):
                continue
            value = str(data[f.api_name]).lower()
            row = self.connection.execute(
                "SELECT record_id FROM zoho_unique WHERE org_id = ? AND module = ? AND field = ? AND value = ?",
                (self.org.id, self.module.api_name, f.api_name, value)).fetchone()
            if row is not None and (existing is None or row["record_id"] != existing.id):
                owner = self.connection.execute("SELECT data FROM zoho_record WHERE id = ?",
                                                (row["record_id"],)).fetchone()
                owner_id = json.loads(owner["data"]).get("Owner") if owner else None
                user = self.org.user(owner_id or "") or self.org.current_user
                # Zoho: DUPLICATE_DATA names the record that already holds the value (FACTS.md §3).
                raise _RecordError(record_error("DUPLICATE_DATA", "duplicate data", {
                    "api_name": f.api_name, "json_path": f"{path}.{f.api_name}",
                    "duplicate_record": {
                        "module": {"api_name": self.module.api_name, "id": self.module.id},
                        "id": str(row["record_id"]),
                        "Owner": _user_ref(user),
                    }}))

    def _index_unique(self, record_id: int, data: dict[str, Any]) -> None:
        self.connection.execute("DELETE FROM zoho_unique WHERE record_id = ?", (record_id,))
        for f in self.module.fields:
            if f.unique and data.get(f.api_name) not in (None, ""):
                self.connection.execute(
                    "INSERT INTO zoho_unique (org_id, module, field, value, record_id) VALUES (?, ?, ?, ?, ?)",
                    (self.org.id, self.module.api_name, f.api_name, str(data[f.api_name]).lower(), record_id))


class _RecordError(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result["code"])
        self.result = result
