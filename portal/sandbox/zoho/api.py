"""The CRM API under ``BASE/zoho/crm/v8`` (and Bulk Read under ``BASE/zoho/crm/bulk/v8``).

Every call is authenticated (``Zoho-oauthtoken``), scope-checked, held to the org's concurrency and charged
credits before it runs (FACTS.md §1-§5). Views parse and answer; records, queries and notifications live in
their own modules.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from portal.sandbox.core.server import api_endpoint
from portal.sandbox.zoho import catalog
from portal.sandbox.zoho import coql as coql_parser
from portal.sandbox.zoho.catalog import ModuleDef
from portal.sandbox.zoho.criteria import parse_criteria
from portal.sandbox.zoho.errors import (
    ZohoError,
    bodiless,
    invalid_module,
    invalid_param,
    json_response,
    required_param,
)
from portal.sandbox.zoho.limits import coql_cost, write_cost
from portal.sandbox.zoho.metadata import field_json, layout_json, module_json, org_json, related_list_json, user_json
from portal.sandbox.zoho.oauth import Grant, require_scope
from portal.sandbox.zoho.query import (
    Compare,
    Condition,
    Group,
    QueryError,
    Via,
    compile_condition,
    order_clause,
)
from portal.sandbox.zoho.records import MAX_WRITE, ROW_COLUMNS, Row, WriteOutcome
from portal.sandbox.zoho.services import Zoho, base_url
from portal.sandbox.zoho.state import Metadata, Org
from portal.sandbox.zoho.values import parse_datetime, parse_id

MAX_FIELDS = 50
MAX_PER_PAGE = 200
DISCRETE_LIMIT = 2_000  # Zoho: page works up to record 2,000, then page_token (FACTS.md §3)
TOKEN_LIMIT = 100_000  # Zoho: page_token paging stops at 100,000 records
SEARCH_LIMIT = 2_000
TOKEN_HOURS = 24
SORTABLE = ("id", "Created_Time", "Modified_Time")


@dataclass
class Call:
    """One authenticated API call: who, which org, and what it has spent."""

    zoho: Zoho
    grant: Grant
    org: Org
    metadata: Metadata
    charged: bool = False
    heavy: bool = False
    credits_remaining: int | None = None
    records_written: int = 0
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> str:
        return self.grant.user_id

    def charge(self, cost: int) -> None:
        self.credits_remaining = self.zoho.limits.charge(self.org, cost)
        self.charged = True

    def take_heavy_slot(self) -> None:
        """Zoho: heavy calls (sort_by, COQL, writes of more than 10 records) share a sub-concurrency of 10."""
        if not self.heavy:
            self.zoho.limits.enter_heavy(self.org)
            self.heavy = True

    def module(self, name: str) -> ModuleDef:
        module = self.metadata.module(name)
        if module is None or not module.api_supported:
            raise invalid_module(name)
        return module

    def require(self, group: str, resource: str | None, operation: str, module: ModuleDef | None = None) -> None:
        require_scope(self.grant.scopes, group, resource, operation,
                      custom_module=module is not None and module.generated_type == "custom")


ScopeCheck = Callable[[Call, dict[str, Any]], None]


def module_scope(operation: str) -> ScopeCheck:
    def check(call: Call, kwargs: dict[str, Any]) -> None:
        module = call.module(kwargs["module"])
        call.require("modules", module.api_name.lower(), operation, module)
    return check


def fixed_scope(group: str, resource: str | None, operation: str) -> ScopeCheck:
    def check(call: Call, kwargs: dict[str, Any]) -> None:
        call.require(group, resource, operation)
    return check


def read_body() -> Any:
    """Zoho reads JSON bodies whatever their Content-Type; the official SDK sends record writes without one."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ZohoError(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"}) from None


def parse_fields(module: ModuleDef, raw: str | None, mandatory: bool) -> list[str] | None:
    if raw is None or raw.strip() == "":
        if mandatory:
            # Zoho: fields is mandatory when listing records (FACTS.md §3, §8.5).
            raise required_param("fields")
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if len(names) > MAX_FIELDS:
        raise ZohoError(400, "LIMIT_EXCEEDED", "Max field limit exceeded", {"param": "fields", "limit": MAX_FIELDS})
    for name in names:
        if name != "id" and name not in module.field_map:
            raise invalid_param("fields", api_name=name)
    return [name for name in dict.fromkeys(names) if name != "id"]


def int_param(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, expected_data_type="integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        details = {"maximum_length": str(maximum)} if maximum is not None else {}
        raise invalid_param(name, **details)
    return value


def if_modified_since() -> float | None:
    raw = request.headers.get("If-Modified-Since")
    if not raw:
        return None
    try:
        # Zoho: If-Modified-Since is ISO-8601 with an offset, not an HTTP date (FACTS.md §2).
        return parse_datetime(raw.strip())
    except ValueError:
        raise ZohoError(400, "INVALID_DATA", "invalid data", {"header": "If-Modified-Since"}) from None


def ids_param(raw: str | None, limit: int = MAX_WRITE) -> list[str]:
    ids = [value.strip() for value in (raw or "").split(",") if value.strip()]
    if len(ids) > limit:
        raise ZohoError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"param": "ids", "limit": limit})
    return ids


def build_blueprint(zoho: Zoho) -> Blueprint:
    bp = Blueprint("zoho_crm", __name__)

    def crm(scope: ScopeCheck, charge: int | None = 1) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
            @functools.wraps(view)
            def wrapper(**kwargs: Any) -> Response:
                org: Org | None = None
                call: Call | None = None
                try:
                    grant = zoho.tokens.authenticate(request.headers.get("Authorization"))
                    org = zoho.orgs.get(grant.org_id)
                    if org is None:
                        raise ZohoError(401, "INVALID_TOKEN", "invalid oauth token")
                    g.zoho_org = org.id
                    call = Call(zoho, grant, org, zoho.orgs.metadata(org))
                    scope(call, kwargs)
                    zoho.limits.enter(org)
                    try:
                        if charge is not None:
                            call.charge(charge)
                        response = view(call, **kwargs)
                        if org.latency_ms > 0:
                            # Simulated processing time, while the call still holds its (heavy) slot.
                            time.sleep(org.latency_ms / 1000)
                    finally:
                        zoho.limits.leave(org.id)
                        if call.heavy:
                            zoho.limits.leave_heavy(org.id)
                    g.zoho_written = call.records_written
                except ZohoError as error:
                    response = error.response()
                if call is not None and call.credits_remaining is not None:
                    # Zoho: once half the day's credits are spent, responses say how many remain (FACTS.md §5).
                    response.headers["X-API-CREDITS-REMAINING"] = str(call.credits_remaining)
                return response
            return api_endpoint(wrapper)
        return decorate

    def write_response(call: Call, outcome: WriteOutcome, success_status: int, trigger: Any) -> Response:
        call.records_written = outcome.succeeded
        run_workflows = trigger is None or (isinstance(trigger, list) and "workflow" in trigger)
        zoho.notifier.dispatch(call.org, call.metadata, outcome.changes, base_url(), run_workflows)
        return json_response({"data": outcome.results}, outcome.http_status(success_status))

    def write_items(body: Any) -> list[Any]:
        if not isinstance(body, dict) or "data" not in body:
            raise ZohoError(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "data"})
        items = body["data"]
        if not isinstance(items, list) or not items:
            raise ZohoError(400, "INVALID_DATA", "invalid data",
                            {"api_name": "data", "expected_data_type": "jsonarray"})
        if len(items) > MAX_WRITE:
            raise ZohoError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"api_name": "data", "limit": MAX_WRITE})
        return items

    def charge_write(call: Call, count: int) -> None:
        if count > 10:
            call.take_heavy_slot()
        call.charge(write_cost(count))

    # --- metadata --------------------------------------------------------------------------------------------

    @bp.get("/crm/v8/settings/modules")
    @crm(fixed_scope("settings", "modules", "READ"))
    def list_modules(call: Call) -> Response:
        since = if_modified_since()
        if since is not None and call.org.meta_modified_at <= since:
            return bodiless(304)
        modules = [module_json(call.org, call.metadata, module) for module in call.metadata.modules.values()]
        return json_response({"modules": modules})

    @bp.get("/crm/v8/settings/modules/<name>")
    @crm(fixed_scope("settings", "modules", "READ"))
    def get_module(call: Call, name: str) -> Response:
        module = call.metadata.module(name, include_subforms=True)
        if module is None:
            module = next((m for m in call.metadata.modules.values() if m.id == name), None)
        if module is None:
            raise invalid_module(name)
        body = module_json(call.org, call.metadata, module)
        body["fields"] = [field_json(call.org, call.metadata, module, f, index + 1)
                          for index, f in enumerate(module.fields)]
        body["related_lists"] = [related_list_json(call.org, call.metadata, module, related, index)
                                 for index, related in enumerate(module.related)]
        return json_response({"modules": [body]})

    def metadata_module(call: Call) -> ModuleDef:
        name = request.args.get("module")
        if not name:
            raise required_param("module")
        module = call.metadata.module(name, include_subforms=True)
        if module is None:
            raise invalid_module(name)
        return module

    @bp.get("/crm/v8/settings/fields")
    @crm(fixed_scope("settings", "fields", "READ"))
    def list_fields(call: Call) -> Response:
        module = metadata_module(call)
        fields = [field_json(call.org, call.metadata, module, f, index + 1) for index, f in enumerate(module.fields)]
        return json_response({"fields": fields})

    @bp.get("/crm/v8/settings/fields/<field_id>")
    @crm(fixed_scope("settings", "fields", "READ"))
    def get_field(call: Call, field_id: str) -> Response:
        module = metadata_module(call)
        for index, f in enumerate(module.fields):
            if field_id in (f.id, f.api_name):
                return json_response({"fields": [field_json(call.org, call.metadata, module, f, index + 1)]})
        raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 0})

    @bp.get("/crm/v8/settings/layouts")
    @crm(fixed_scope("settings", "layouts", "READ"))
    def list_layouts(call: Call) -> Response:
        module = metadata_module(call)
        return json_response({"layouts": [layout_json(call.org, call.metadata, module)]})

    @bp.get("/crm/v8/settings/layouts/<layout_id>")
    @crm(fixed_scope("settings", "layouts", "READ"))
    def get_layout(call: Call, layout_id: str) -> Response:
        module = metadata_module(call)
        layout = layout_json(call.org, call.metadata, module)
        if layout["id"] != layout_id:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 0})
        return json_response({"layouts": [layout]})

    @bp.get("/crm/v8/settings/related_lists")
    @crm(fixed_scope("settings", "related_lists", "READ"))
    def list_related_lists(call: Call) -> Response:
        module = metadata_module(call)
        items = [related_list_json(call.org, call.metadata, module, related, index)
                 for index, related in enumerate(module.related)]
        return json_response({"related_lists": items}) if items else bodiless(204)

    @bp.get("/crm/v8/users")
    @crm(fixed_scope("users", None, "READ"))
    def list_users(call: Call) -> Response:
        kind = request.args.get("type", "AllUsers")
        users = call.org.users
        if kind == "CurrentUser":
            users = [u for u in users if u["id"] == call.user_id]
        elif kind == "AdminUsers":
            users = [u for u in users if u["profile"] == "Administrator"]
        elif kind not in ("AllUsers", "ActiveUsers", "ActiveConfirmedUsers", "ConfirmedUsers"):
            raise invalid_param("type")
        per_page = int_param("per_page", 200, maximum=MAX_PER_PAGE)
        page = int_param("page", 1)
        chunk = users[(page - 1) * per_page: page * per_page]
        if not chunk:
            return bodiless(204)
        return json_response({"users": [user_json(call.org, user) for user in chunk],
                              "info": {"per_page": per_page, "count": len(chunk), "page": page,
                                       "more_records": page * per_page < len(users)}})

    @bp.get("/crm/v8/users/<user_id>")
    @crm(fixed_scope("users", None, "READ"))
    def get_user(call: Call, user_id: str) -> Response:
        user = call.org.user(user_id)
        if user is None:
            return bodiless(204)
        return json_response({"users": [user_json(call.org, user)],
                              "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False}})

    @bp.get("/crm/v8/org")
    @crm(fixed_scope("org", None, "READ"))
    def get_org(call: Call) -> Response:
        return json_response({"org": [org_json(call.org)]})

    @bp.get("/crm/v8/org/taxes")
    @crm(fixed_scope("org", None, "READ"))
    def get_org_taxes(call: Call) -> Response:
        """The org's taxes, which invoice lines name in ``Line_Tax`` (Zoho's Taxes API)."""
        taxes = [{"id": str(4150868000000300000 + index), "name": name, "display_label": f"{name} - {rate}%",
                  "value": rate, "sequence_number": index + 1, "deletable": True}
                 for index, (name, rate) in enumerate(catalog.TAXES)]
        return json_response({"org_taxes": {"taxes": taxes, "preference": {"auto_populate_tax": False,
                                                                            "modify_tax_rates": False}}})

    # --- records ---------------------------------------------------------------------------------------------

    @bp.get("/crm/v8/<module>")
    @crm(module_scope("READ"))
    def list_records(call: Call, module: str) -> Response:
        return _list(call, call.module(module))

    def _list(call: Call, module: ModuleDef) -> Response:
        args = request.args
        if args.get("cvid"):
            raise invalid_param("cvid", "custom views are not available in the sandbox")
        fields = parse_fields(module, args.get("fields"), mandatory=True) or []
        per_page = int_param("per_page", 200, maximum=MAX_PER_PAGE)
        sort_by = args.get("sort_by") or "id"
        sort_order = args.get("sort_order") or "desc"
        if sort_by not in SORTABLE:
            raise invalid_param("sort_by", supported_values=list(SORTABLE))
        if sort_order not in ("asc", "desc"):
            raise invalid_param("sort_order", supported_values=["asc", "desc"])
        if "sort_by" in args:
            call.take_heavy_slot()
        ids = ids_param(args.get("ids"))
        page_token = args.get("page_token")
        if page_token and "page" in args:
            raise ZohoError(400, "AMBIGUITY_DURING_PROCESSING", "ambiguity while processing the request",
                            {"ambiguity_due_to": ["page", "page_token"]})
        bound = _bound_params(module)
        if page_token:
            offset = _resume(call, page_token, bound)
            if offset >= TOKEN_LIMIT:
                raise ZohoError(400, "PAGINATION_LIMIT_EXCEEDED", "pagination limit exceeded",
                                {"limit": TOKEN_LIMIT})
        else:
            page = int_param("page", 1)
            offset = (page - 1) * per_page
            if offset + per_page > DISCRETE_LIMIT:
                # Zoho: page works up to record 2,000; beyond, page_token (FACTS.md §3, §8.6).
                raise ZohoError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                                "The maximum limit for discrete pagination has been exceeded",
                                {"limit": DISCRETE_LIMIT})
        since = if_modified_since()
        where = ["org_id = ?", "module = ?"]
        params: list[Any] = [call.org.id, module.api_name]
        if ids:
            numeric = [int(value) for value in ids if parse_id(value)]
            where.append(f"id IN ({','.join('?' * len(numeric)) or 'NULL'})")
            params.extend(numeric)
        if since is not None:
            where.append("modified_at > ?")
            params.append(since)
        column = {"id": "id", "Created_Time": "created_at", "Modified_Time": "modified_at"}[sort_by]
        direction = "DESC" if sort_order == "desc" else "ASC"
        order = f"{column} {direction}" if column == "id" else f"{column} {direction}, id {direction}"
        rows = zoho.store.query(
            f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE {' AND '.join(where)} "  # noqa: S608
            f"ORDER BY {order} LIMIT ? OFFSET ?", (*params, per_page + 1, offset))
        if not rows:
            return bodiless(304 if since is not None else 204)
        more = len(rows) > per_page
        selected = [Row.from_sql(row) for row in rows[:per_page]]
        data = zoho.records.present(call.org, call.metadata, module, selected, fields)
        info: dict[str, Any] = {
            "per_page": per_page, "count": len(data), "page": offset // per_page + 1, "sort_by": sort_by,
            "sort_order": sort_order, "more_records": more, "next_page_token": None, "previous_page_token": None,
            "page_token_expiry": None, "call": False, "email": False,
        }
        if more:
            token, expiry = _issue_page_token(call, bound, offset + per_page)
            info["next_page_token"] = token
            info["page_token_expiry"] = call.org.format_time(expiry)
        return json_response({"data": data, "info": info})

    def _bound_params(module: ModuleDef) -> str:
        # Zoho: a page token is bound to the query params; change one and it is rejected (FACTS.md §3).
        params = sorted((key, value) for key, value in request.args.items(multi=True)
                        if key not in ("page", "page_token"))
        since = request.headers.get("If-Modified-Since", "")
        return hashlib.sha256(json.dumps([module.api_name, params, since]).encode()).hexdigest()

    def _issue_page_token(call: Call, bound: str, next_offset: int) -> tuple[str, float]:
        token = secrets.token_hex(24)
        expiry = zoho.clock.now() + TOKEN_HOURS * 3600
        with zoho.store.transaction() as connection:
            connection.execute(
                "INSERT INTO zoho_page_token (token, org_id, user_id, bound, next_offset, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (token, call.org.id, call.user_id, bound, next_offset, expiry))
        return token, expiry

    def _resume(call: Call, token: str, bound: str) -> int:
        row = zoho.store.query_one("SELECT * FROM zoho_page_token WHERE token = ?", (token,))
        if row is None or row["org_id"] != call.org.id or row["user_id"] != call.user_id \
                or row["expires_at"] <= zoho.clock.now():
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"param": "page_token"})
        if row["bound"] != bound:
            raise ZohoError(400, "TOKEN_BOUND_DATA_MISMATCH",
                            "The page token is bound to other parameters than those in the request",
                            {"param": "page_token"})
        return int(row["next_offset"])

    @bp.get("/crm/v8/<module>/<record_id>")
    @crm(module_scope("READ"))
    def get_record(call: Call, module: str, record_id: str) -> Response:
        definition = call.module(module)
        if parse_id(record_id) is None:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1})
        fields = parse_fields(definition, request.args.get("fields"), mandatory=False)
        row = zoho.records.get(call.org, definition.api_name, int(record_id))
        if row is None:
            return bodiless(204)
        since = if_modified_since()
        if since is not None and row.modified_at <= since:
            return bodiless(304)
        data = zoho.records.present(call.org, call.metadata, definition, [row], fields, full=True)
        return json_response({"data": data})

    @bp.post("/crm/v8/<module>")
    @crm(module_scope("CREATE"), charge=None)
    def insert_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        body = read_body()
        items = write_items(body)
        charge_write(call, len(items))
        outcome = zoho.records.write(call.org, definition, items, "insert", call.user_id)
        return write_response(call, outcome, 201, body.get("trigger"))

    @bp.put("/crm/v8/<module>")
    @crm(module_scope("UPDATE"), charge=None)
    def update_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        body = read_body()
        items = write_items(body)
        charge_write(call, len(items))
        outcome = zoho.records.write(call.org, definition, items, "update", call.user_id)
        return write_response(call, outcome, 200, body.get("trigger"))

    @bp.put("/crm/v8/<module>/<record_id>")
    @crm(module_scope("UPDATE"), charge=None)
    def update_record(call: Call, module: str, record_id: str) -> Response:
        definition = call.module(module)
        body = read_body()
        items = write_items(body)
        if len(items) != 1:
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"api_name": "data"})
        charge_write(call, 1)
        item = dict(items[0]) if isinstance(items[0], dict) else items[0]
        if isinstance(item, dict):
            item["id"] = record_id
        outcome = zoho.records.write(call.org, definition, [item], "update", call.user_id)
        return write_response(call, outcome, 200, body.get("trigger"))

    @bp.post("/crm/v8/<module>/upsert")
    @crm(module_scope("CREATE"), charge=None)
    def upsert_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        call.require("modules", definition.api_name.lower(), "UPDATE", definition)
        body = read_body()
        items = write_items(body)
        check_fields = body.get("duplicate_check_fields")
        if check_fields is not None:
            if not isinstance(check_fields, list) or not all(isinstance(name, str) for name in check_fields):
                raise ZohoError(400, "INVALID_DATA", "invalid data", {"api_name": "duplicate_check_fields"})
            for name in check_fields:
                f = definition.field_map.get(name)
                if f is None or f.data_type in ("subform", "multiselectpicklist", "lookup", "ownerlookup"):
                    raise ZohoError(400, "INVALID_DATA", "invalid data",
                                    {"api_name": "duplicate_check_fields", "field": name})
        charge_write(call, len(items))
        outcome = zoho.records.write(call.org, definition, items, "upsert", call.user_id, check_fields)
        return write_response(call, outcome, 200, body.get("trigger"))

    @bp.delete("/crm/v8/<module>")
    @crm(module_scope("DELETE"))
    def delete_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        ids = ids_param(request.args.get("ids"))
        if not ids:
            raise required_param("ids")
        outcome = zoho.records.delete(call.org, definition, ids, call.user_id)
        return write_response(call, outcome, 200, ["workflow"] if request.args.get("wf_trigger", "true") != "false"
                              else [])

    @bp.delete("/crm/v8/<module>/<record_id>")
    @crm(module_scope("DELETE"))
    def delete_record(call: Call, module: str, record_id: str) -> Response:
        definition = call.module(module)
        outcome = zoho.records.delete(call.org, definition, [record_id], call.user_id)
        return write_response(call, outcome, 200, ["workflow"] if request.args.get("wf_trigger", "true") != "false"
                              else [])

    @bp.get("/crm/v8/<module>/deleted")
    @crm(module_scope("READ"))
    def deleted_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        kind = request.args.get("type", "all")
        if kind not in ("all", "recycle", "permanent"):
            raise invalid_param("type", supported_values=["all", "recycle", "permanent"])
        per_page = int_param("per_page", 200, maximum=MAX_PER_PAGE)
        page = int_param("page", 1)
        since = if_modified_since()
        where = ["org_id = ?", "module = ?"]
        params: list[Any] = [call.org.id, definition.api_name]
        if kind != "all":
            where.append("type = ?")
            params.append(kind)
        if since is not None:
            where.append("deleted_at > ?")
            params.append(since)
        rows = zoho.store.query(
            f"SELECT * FROM zoho_deleted WHERE {' AND '.join(where)} ORDER BY deleted_at DESC, id DESC "  # noqa: S608
            "LIMIT ? OFFSET ?", (*params, per_page + 1, (page - 1) * per_page))
        if not rows:
            return bodiless(304 if since is not None else 204)
        users = {u["id"]: {"name": u["full_name"], "id": u["id"]} for u in call.org.users}
        data = [{"deleted_by": users.get(row["deleted_by"]), "id": str(row["id"]), "display_name": row["display"],
                 "type": row["type"], "created_by": users.get(row["created_by"]),
                 "deleted_time": call.org.format_time(row["deleted_at"])} for row in rows[:per_page]]
        return json_response({"data": data, "info": {"per_page": per_page, "count": len(data), "page": page,
                                                     "more_records": len(rows) > per_page}})

    @bp.get("/crm/v8/<module>/actions/count")
    @crm(module_scope("READ"))
    def count_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        return json_response({"count": zoho.records.count(call.org, definition.api_name)})

    @bp.get("/crm/v8/<module>/search")
    @crm(module_scope("READ"))
    def search_records(call: Call, module: str) -> Response:
        definition = call.module(module)
        args = request.args
        per_page = int_param("per_page", 200, maximum=MAX_PER_PAGE)
        page = int_param("page", 1)
        if page * per_page > SEARCH_LIMIT:
            # Zoho: search returns at most 2,000 records in all (FACTS.md §3).
            raise ZohoError(400, "LIMIT_REACHED", "limit reached", {"limit": SEARCH_LIMIT})
        fields = parse_fields(definition, args.get("fields"), mandatory=False)
        condition = _search_condition(definition)
        params: list[Any] = [call.org.id, definition.api_name]
        try:
            where = compile_condition(definition, condition, params)
        except QueryError as error:
            raise ZohoError(400, "INVALID_QUERY", "invalid query formed", error.details) from None
        lag = zoho.tokens.settings()["search_index_lag_seconds"]
        params.append(zoho.clock.now() - lag)
        rows = zoho.store.query(
            f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE org_id = ? AND module = ? AND {where} "  # noqa: S608
            "AND modified_at <= ? ORDER BY id DESC LIMIT ? OFFSET ?", (*params, per_page + 1, (page - 1) * per_page))
        if not rows:
            return bodiless(204)
        selected = [Row.from_sql(row) for row in rows[:per_page]]
        data = zoho.records.present(call.org, call.metadata, definition, selected, fields)
        return json_response({"data": data, "info": {"per_page": per_page, "count": len(data), "page": page,
                                                     "more_records": len(rows) > per_page}})

    def _search_condition(module: ModuleDef) -> Condition:
        args = request.args
        # Zoho: criteria > email > phone > word when several are sent (FACTS.md §3).
        if args.get("criteria"):
            try:
                condition = parse_criteria(args["criteria"])
            except QueryError as error:
                raise ZohoError(400, "INVALID_QUERY", "invalid query formed", error.details) from None
            return _text_equals_contains(module, condition)
        if args.get("email"):
            names = [f.api_name for f in module.fields if f.data_type == "email"]
            return Group("or", [Compare(name, "equals", [args["email"]]) for name in names]) if names \
                else Compare("id", "equals", ["0"])
        if args.get("phone"):
            names = [f.api_name for f in module.fields if f.data_type == "phone"]
            return Group("or", [Compare(name, "contains", [args["phone"]]) for name in names]) if names \
                else Compare("id", "equals", ["0"])
        if "word" in args:
            word = args["word"]
            if len(word.strip()) < 2:
                raise ZohoError(400, "INVALID_QUERY", "invalid query formed", {"param": "word", "reason":
                                                                                "at least 2 characters"})
            names = [f.api_name for f in module.fields if f.data_type in ("text", "textarea", "email", "phone",
                                                                          "website", "picklist")]
            return Group("or", [Compare(name, "contains", [word]) for name in names])
        raise required_param("criteria")

    def _text_equals_contains(module: ModuleDef, condition: Condition) -> Condition:
        # Zoho: in search criteria, equals on a text field matches values that contain the text (FACTS.md §3).
        if isinstance(condition, Group):
            return Group(condition.operator, [_text_equals_contains(module, item) for item in condition.items])
        if isinstance(condition, Compare) and condition.operator == "equals":
            f = module.field_map.get(condition.field)
            if f is not None and f.data_type in ("text", "textarea"):
                return Compare(condition.field, "contains", condition.values)
        return condition

    # --- related lists ---------------------------------------------------------------------------------------

    def _related(call: Call, module: str, record_id: str, related: str) -> tuple[ModuleDef, ModuleDef, Row]:
        parent = call.module(module)
        target = call.metadata.module(related)
        if target is None or related not in parent.related:
            raise ZohoError(400, "INVALID_DATA", "the related list name given seems to be invalid",
                            {"resource_path_index": 2})
        row = zoho.records.get(call.org, parent.api_name, int(record_id)) if parse_id(record_id) else None
        if row is None:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1})
        return parent, target, row

    @bp.get("/crm/v8/<module>/<record_id>/<related>")
    @crm(module_scope("READ"))
    def related_records(call: Call, module: str, record_id: str, related: str) -> Response:
        parent, target, row = _related(call, module, record_id, related)
        fields = parse_fields(target, request.args.get("fields"), mandatory=True)
        per_page = int_param("per_page", 200, maximum=MAX_PER_PAGE)
        page = int_param("page", 1)
        lookups = [f.api_name for f in target.fields if f.data_type == "lookup" and f.lookup == parent.api_name]
        if lookups:
            condition: Condition = Group("or", [Compare(name, "equals", [str(row.id)]) for name in lookups]) \
                if len(lookups) > 1 else Compare(lookups[0], "equals", [str(row.id)])
            params: list[Any] = [call.org.id, target.api_name]
            where = compile_condition(target, condition, params)
            found = [Row.from_sql(r) for r in zoho.store.query(
                f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE org_id = ? AND module = ? AND {where} "  # noqa: S608
                "ORDER BY id LIMIT ? OFFSET ?", (*params, per_page + 1, (page - 1) * per_page))]
        else:
            linked = zoho.records.related_ids(call.org, row.id, target.api_name)
            if not linked:
                linked = [r for r in _reverse_links(call, row.id, parent.api_name)]
            chunk = linked[(page - 1) * per_page: page * per_page + 1]
            rows = zoho.records.get_many(call.org, chunk)
            found = [rows[i] for i in chunk if i in rows]
        if not found:
            return bodiless(204)
        data = zoho.records.present(call.org, call.metadata, target, found[:per_page], fields)
        return json_response({"data": data, "info": {"per_page": per_page, "count": len(data), "page": page,
                                                     "more_records": len(found) > per_page}})

    def _reverse_links(call: Call, record_id: int, parent_module: str) -> list[int]:
        rows = zoho.store.query("SELECT record_id FROM zoho_relation WHERE org_id = ? AND related_id = ? "
                                "ORDER BY linked_at", (call.org.id, record_id))
        return [r["record_id"] for r in rows]

    @bp.put("/crm/v8/<module>/<record_id>/<related>")
    @crm(module_scope("UPDATE"))
    def link_records(call: Call, module: str, record_id: str, related: str) -> Response:
        _, target, row = _related(call, module, record_id, related)
        items = write_items(read_body())
        results = []
        for index, item in enumerate(items):
            related_id = parse_id(item.get("id")) if isinstance(item, dict) else None
            other = zoho.records.get(call.org, target.api_name, int(related_id)) if related_id else None
            if other is None:
                results.append({"code": "INVALID_DATA",
                                "details": {"api_name": "id", "json_path": f"$.data[{index}].id"},
                                "message": "the related id given seems to be invalid", "status": "error"})
                continue
            zoho.records.link(call.org, row.id, target.api_name, [other.id])
            results.append({"code": "SUCCESS", "details": {"id": str(other.id)}, "message": "relation updated",
                            "status": "success"})
        ok = sum(1 for r in results if r["status"] == "success")
        return json_response({"data": results}, 200 if ok == len(results) else 400 if ok == 0 else 207)

    @bp.delete("/crm/v8/<module>/<record_id>/<related>")
    @crm(module_scope("UPDATE"))
    def unlink_records(call: Call, module: str, record_id: str, related: str) -> Response:
        _, target, row = _related(call, module, record_id, related)
        ids = ids_param(request.args.get("ids"))
        if not ids:
            raise required_param("ids")
        linked = set(zoho.records.related_ids(call.org, row.id, target.api_name))
        results = []
        for raw in ids:
            related_id = parse_id(raw)
            if related_id is None or int(related_id) not in linked:
                results.append({"code": "INVALID_DATA", "details": {"id": raw},
                                "message": "the related id given seems to be invalid", "status": "error"})
                continue
            zoho.records.unlink(call.org, row.id, target.api_name, [int(related_id)])
            results.append({"code": "SUCCESS", "details": {"id": related_id}, "message": "relation removed",
                            "status": "success"})
        ok = sum(1 for r in results if r["status"] == "success")
        return json_response({"data": results}, 200 if ok == len(results) else 400 if ok == 0 else 207)

    # --- COQL ------------------------------------------------------------------------------------------------

    @bp.post("/crm/v8/coql")
    @crm(fixed_scope("coql", None, "READ"), charge=None)
    def coql(call: Call) -> Response:
        body = read_body()
        text = body.get("select_query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ZohoError(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "select_query"})
        try:
            query = coql_parser.parse(text)
        except coql_parser.CoqlError as error:
            raise ZohoError(400, error.code, error.message, error.details) from None
        module = call.metadata.module(query.module)
        if module is None or not module.api_supported:
            raise ZohoError(400, "INVALID_QUERY", "invalid query formed",
                            {"clause": "from", "reason": "invalid module", "module": query.module})
        call.require("modules", module.api_name.lower(), "READ", module)
        call.take_heavy_slot()
        call.charge(coql_cost(query.limit))
        columns = _coql_columns(call, module, query.columns)
        where = _coql_condition(call, module, query.where)
        params: list[Any] = [call.org.id, module.api_name]
        try:
            sql_where = compile_condition(module, where, params)
            order = order_clause(module, query.order) if query.order else "id ASC"
        except QueryError as error:
            raise ZohoError(400, "INVALID_QUERY", "value given seems to be invalid for the column",
                            {"clause": "where", **error.details}) from None
        rows = zoho.store.query(
            f"SELECT {ROW_COLUMNS} FROM zoho_record WHERE org_id = ? AND module = ? AND {sql_where} "  # noqa: S608
            f"ORDER BY {order} LIMIT ? OFFSET ?", (*params, query.limit + 1, query.offset))
        if not rows:
            return bodiless(204)
        selected = [Row.from_sql(row) for row in rows[:query.limit]]
        data = _coql_rows(call, module, selected, columns)
        return json_response({"data": data, "info": {"count": len(data), "more_records": len(rows) > query.limit}})

    def _coql_columns(call: Call, module: ModuleDef, columns: list[str]) -> list[tuple[str, str, str | None]]:
        resolved = []
        for column in columns:
            name, _, target_field = column.partition(".")
            f = module.field_map.get(name) if name != "id" else None
            if name != "id" and (f is None or f.data_type == "subform"):
                raise ZohoError(400, "INVALID_QUERY", "column given seems to be invalid",
                                {"clause": "select", "column_name": column})
            if target_field:
                target = call.metadata.modules.get(f.lookup or "") if f else None
                if target is None or (target_field != "id" and target_field not in target.field_map):
                    raise ZohoError(400, "INVALID_QUERY", "column given seems to be invalid",
                                    {"clause": "select", "column_name": column})
            resolved.append((column, name, target_field or None))
        return resolved

    def _coql_condition(call: Call, module: ModuleDef, condition: Condition) -> Condition:
        if isinstance(condition, Group):
            return Group(condition.operator, [_coql_condition(call, module, item) for item in condition.items])
        if isinstance(condition, Compare) and "." in condition.field:
            name, _, target_field = condition.field.partition(".")
            f = module.field_map.get(name)
            target = call.metadata.modules.get(f.lookup or "") if f else None
            if f is None or target is None:
                raise ZohoError(400, "INVALID_QUERY", "column given seems to be invalid",
                                {"clause": "where", "column_name": condition.field})
            if target_field == "id":
                return Compare(name, condition.operator, condition.values)
            return Via(name, call.org.id, target, Compare(target_field, condition.operator, condition.values))
        return condition

    def _coql_rows(call: Call, module: ModuleDef, rows: list[Row],
                   columns: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
        dotted = [(name, target) for _, name, target in columns if target]
        targets: dict[str, Row] = {}
        if dotted:
            wanted = {row.data.get(name) for row in rows for name, _ in dotted}
            targets = {str(k): v for k, v in zoho.records.get_many(
                call.org, [int(v) for v in wanted if v]).items()}
        plain = [name for column, name, target in columns if not target and name != "id"]
        presented = zoho.records.present(call.org, call.metadata, module, rows, plain)
        out = []
        for row, record in zip(rows, presented, strict=True):
            item: dict[str, Any] = {}
            for column, name, target_field in columns:
                if name == "id":
                    item["id"] = str(row.id)
                elif target_field:
                    value = row.data.get(name)
                    target_row = targets.get(str(value)) if value else None
                    if target_row is None:
                        item[column] = None
                    elif target_field == "id":
                        item[column] = str(target_row.id)
                    else:
                        target_module = call.metadata.modules[target_row.module]
                        item[column] = zoho.records.present(
                            call.org, call.metadata, target_module, [target_row], [target_field])[0][target_field]
                else:
                    value = record[name]
                    # Zoho: COQL answers lookups and owners with their id only.
                    item[name] = {"id": value["id"]} if isinstance(value, dict) and "id" in value else value
            item.setdefault("id", str(row.id))
            out.append(item)
        return out

    # --- notifications ---------------------------------------------------------------------------------------

    @bp.route("/crm/v8/actions/watch", methods=["POST", "PUT", "PATCH"])
    @crm(fixed_scope("notifications", None, "CREATE"))
    def watch(call: Call) -> Response:
        if request.method != "POST":
            call.require("notifications", None, "UPDATE")
        results = zoho.notifier.watch(call.org, call.metadata, read_body(), request.method.lower(), base_url())
        return json_response({"watch": results}, 201 if request.method == "POST" else 200)

    @bp.get("/crm/v8/actions/watch")
    @crm(fixed_scope("notifications", None, "READ"))
    def list_watch(call: Call) -> Response:
        channel_id = request.args.get("channel_id")
        module_name = request.args.get("module")
        per_page = int_param("per_page", 200, maximum=MAX_PER_PAGE)
        page = int_param("page", 1)
        entries = []
        for channel in zoho.notifier.channels(call.org):
            if channel_id and str(channel["channel_id"]) != channel_id:
                continue
            for entry in zoho.notifier.describe(call.org, call.metadata, channel, base_url()):
                if module_name and entry["resource_name"].lower() != module_name.lower():
                    continue
                entries.append(entry)
        chunk = entries[(page - 1) * per_page: page * per_page]
        if not chunk:
            return bodiless(204)
        return json_response({"watch": chunk, "info": {"per_page": per_page, "count": len(chunk), "page": page,
                                                       "more_records": page * per_page < len(entries)}})

    @bp.delete("/crm/v8/actions/watch")
    @crm(fixed_scope("notifications", None, "DELETE"))
    def unwatch(call: Call) -> Response:
        ids = ids_param(request.args.get("channel_ids"))
        if not ids:
            raise ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                            {"param": "channel_ids"}, wrapper="watch")
        results = zoho.notifier.unsubscribe(call.org, call.metadata, ids, base_url())
        return json_response({"watch": results})

    # --- Bulk Read -------------------------------------------------------------------------------------------

    @bp.post("/crm/bulk/v8/read")
    @crm(fixed_scope("bulk", None, "READ"))
    def create_bulk_read(call: Call) -> Response:
        if (request.content_type or "").split(";")[0].strip() != "application/json":
            # Zoho: Bulk Read requires Content-Type: application/json; without it, 415 (FACTS.md §7).
            raise ZohoError(415, "UNSUPPORTED_MEDIA_TYPE", "The Content-Type of the request is not supported",
                            {"supported_content_types": ["application/json"]})
        body = read_body()
        query = body.get("query") if isinstance(body, dict) else None
        module_ref = query.get("module") if isinstance(query, dict) else None
        name = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
        module = call.metadata.module(str(name or ""))
        if module is not None:
            call.require("modules", module.api_name.lower(), "READ", module)
        details = zoho.bulk.create(call.org, call.metadata, call.user_id, body, base_url())
        return json_response({"data": [details], "info": {}}, 201)

    @bp.get("/crm/bulk/v8/read/<job_id>")
    @crm(fixed_scope("bulk", None, "READ"))
    def bulk_read_job(call: Call, job_id: str) -> Response:
        return json_response({"data": [zoho.bulk.describe(call.org, job_id)]})

    @bp.get("/crm/bulk/v8/read/<job_id>/result")
    @crm(fixed_scope("bulk", None, "READ"))
    def bulk_read_result(call: Call, job_id: str) -> Response:
        archive = zoho.bulk.download(call.org, job_id)
        response = Response(archive, content_type="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="{job_id}.zip"'
        return response

    # --- anything else under /crm ----------------------------------------------------------------------------

    @bp.route("/crm/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(rest: str) -> Response:
        # Zoho answers unknown URLs with JSON (an HTML 404 would abort the SDK's writes).
        url_adapter = current_app.url_map.bind_to_environ(request.environ)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method == request.method:
                continue
            try:
                endpoint, _ = url_adapter.match(request.path, method=method)
            except (NotFound, MethodNotAllowed):
                continue
            if endpoint != request.endpoint:
                return ZohoError(400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one",
                                 {}).response()
        return ZohoError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one",
                         {}).response()

    return bp
