"""The record browser and editor at ``BASE/zoho/_sandbox/``: what a Zoho CRM user does in the web UI.

Saving a record goes through the same write path as the API and fires the same notifications and workflow
webhooks. The record page carries the org's **Send to Xero** button: a link to the configured URL with its merge
fields filled in, as a Zoho custom button with "Invoke a URL" opens it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.catalog import FieldDef, ModuleDef
from portal.sandbox.zoho.control import add_custom_field, add_workflow, install_xero_accounts, update_org
from portal.sandbox.zoho.notify import merge
from portal.sandbox.zoho.records import Change, Row
from portal.sandbox.zoho.services import Zoho, base_url
from portal.sandbox.zoho.state import Metadata, Org
from portal.sandbox.zoho.templates import INDEX_PAGE, LIST_PAGE, ORG_PAGE, RECORD_PAGE
from portal.sandbox.zoho.values import text_of

PAGE_SIZE = 50
BLANK_LINES = 2


class FormError(ValueError):
    pass


def build_blueprint(zoho: Zoho) -> Blueprint:
    bp = Blueprint("zoho_editor", __name__)

    def load_org(org_id: str) -> Org:
        org = zoho.orgs.get(org_id)
        if org is None:
            abort(404)
        return org

    def load_module(org: Org, name: str) -> tuple[Metadata, ModuleDef]:
        metadata = zoho.orgs.metadata(org)
        module = metadata.module(name)
        if module is None:
            abort(404)
        return metadata, module

    @bp.get("/_sandbox/")
    def index() -> str:
        rows = []
        modules = [m.api_name for m in catalog.STANDARD_MODULES if not m.is_subform]
        for org in zoho.orgs.all():
            counts = {name: zoho.records.count(org, name) for name in modules}
            rows.append({"org": org, "counts": counts, "used": zoho.limits.used(org), "cap": org.daily_credits()})
        return render_template_string(INDEX_PAGE, title="Organisations", org=None, rows=rows, modules=modules,
                                      deliveries=zoho.outbox.recent("zoho", 20))

    @bp.get("/_sandbox/org/<org_id>/")
    def org_page(org_id: str) -> str:
        org = load_org(org_id)
        return _render_org(org, message=request.args.get("message"))

    def _render_org(org: Org, message: str | None = None, error: str | None = None) -> str:
        metadata = zoho.orgs.metadata(org)
        modules = metadata.api_modules()
        now = zoho.clock.now()
        channels = [{**channel, "expiry": org.format_time(channel["expires_at"]),
                     "expired": channel["expires_at"] <= now}
                    for channel in zoho.notifier.channels(org, include_expired=True)]
        return render_template_string(
            ORG_PAGE, title=org.company_name, org=org, modules=modules,
            counts={m.api_name: zoho.records.count(org, m.api_name) for m in modules},
            used=zoho.limits.used(org), cap=org.daily_credits(), editions=list(catalog.EDITIONS),
            field_types=catalog.CUSTOM_FIELD_TYPES, channels=channels, tokens=zoho.tokens.describe(org.id),
            message=message, error=error)

    def _back(org: Org, message: str) -> BaseResponse:
        return redirect(f"/zoho/_sandbox/org/{org.id}/?message={quote(message)}", 303)

    @bp.post("/_sandbox/org/<org_id>/settings")
    def save_settings(org_id: str) -> BaseResponse | tuple[str, int]:
        org = load_org(org_id)
        form = request.form
        try:
            update_org(zoho, org, {
                "edition": form.get("edition", org.edition),
                "credits_per_day": int(form["credits_per_day"]) if form.get("credits_per_day") else None,
                "latency_ms": float(form.get("latency_ms") or 0),
                "send_to_xero_url": form.get("send_to_xero_url", ""),
            })
        except ValueError as error:
            return _render_org(org, error=str(error)), 422
        return _back(org, "Settings saved.")

    @bp.post("/_sandbox/org/<org_id>/fields")
    def add_field(org_id: str) -> BaseResponse | tuple[str, int]:
        org = load_org(org_id)
        form = request.form
        spec: dict[str, Any] = {"module": form.get("module", ""), "label": form.get("label", ""),
                                "data_type": form.get("data_type", "text"), "unique": bool(form.get("unique")),
                                "mandatory": bool(form.get("mandatory"))}
        if form.get("length"):
            spec["length"] = form["length"]
        values = [line.strip() for line in form.get("pick_list_values", "").splitlines() if line.strip()]
        if values:
            spec["pick_list_values"] = values
        if form.get("lookup"):
            spec["lookup"] = form["lookup"]
        try:
            created = add_custom_field(zoho, org, spec)
        except ValueError as error:
            return _render_org(org, error=str(error)), 422
        return _back(org, f"Field {created['api_name']} added to {spec['module']}.")

    @bp.post("/_sandbox/org/<org_id>/install-xero-accounts")
    def install(org_id: str) -> BaseResponse:
        org = load_org(org_id)
        install_xero_accounts(zoho, org)
        return _back(org, "The Xero_Accounts module is installed.")

    @bp.post("/_sandbox/org/<org_id>/workflows")
    def add_rule(org_id: str) -> BaseResponse | tuple[str, int]:
        org = load_org(org_id)
        form = request.form
        params = {}
        for line in form.get("params", "").splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                params[key.strip()] = value.strip()
        try:
            add_workflow(zoho, org, {"module": form.get("module"), "event": form.get("event"),
                                     "url": form.get("url"), "params": params, "body": form.get("body", "form")})
        except ValueError as error:
            return _render_org(org, error=str(error)), 422
        return _back(org, "Workflow rule added.")

    @bp.post("/_sandbox/org/<org_id>/workflows/<hook_id>/delete")
    def delete_rule(org_id: str, hook_id: str) -> BaseResponse:
        org = load_org(org_id)
        org.workflow_webhooks = [hook for hook in org.workflow_webhooks if hook["id"] != hook_id]
        zoho.orgs.save(org)
        return _back(org, "Workflow rule deleted.")

    @bp.post("/_sandbox/org/<org_id>/tokens")
    def tokens(org_id: str) -> BaseResponse:
        org = load_org(org_id)
        if request.form.get("action") == "revoke":
            zoho.tokens.revoke_matching(org_id=org.id)
            return _back(org, "Every token of this org is revoked.")
        zoho.tokens.expire(org_id=org.id)
        return _back(org, "Access tokens of this org have expired.")

    # --- records ---------------------------------------------------------------------------------------------

    @bp.get("/_sandbox/org/<org_id>/<module_name>/")
    def list_records(org_id: str, module_name: str) -> str:
        org = load_org(org_id)
        _, module = load_module(org, module_name)
        page = max(1, request.args.get("page", 1, type=int) or 1)
        q = request.args.get("q", "").strip()
        where, params = "org_id = ? AND module = ?", [org.id, module.api_name]
        if q:
            where += " AND lower(display) LIKE ?"
            params.append(f"%{q.lower()}%")
        found = zoho.store.query(
            "SELECT id, module, display, data, created_at, modified_at, created_by, modified_by FROM zoho_record "  # noqa: S608
            f"WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?", (*params, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE))
        rows = [Row.from_sql(row) for row in found[:PAGE_SIZE]]
        columns = [f for f in module.fields if f.api_name != module.display_field and f.data_type in (
            "text", "email", "phone", "picklist", "currency", "date")][:4]
        return render_template_string(
            LIST_PAGE, title=module.plural, org=org, module=module, q=q, page=page, more=len(found) > PAGE_SIZE,
            display_label=module.field_map[module.display_field].label, columns=columns,
            rows=[{"id": row.id, "display": row.display, "modified": org.format_time(row.modified_at),
                   "cells": {f.api_name: text_of(row.data.get(f.api_name)) for f in columns}} for row in rows])

    @bp.get("/_sandbox/org/<org_id>/<module_name>/new")
    def new_record(org_id: str, module_name: str) -> str:
        org = load_org(org_id)
        metadata, module = load_module(org, module_name)
        return _render_record(org, metadata, module, None, {})

    @bp.post("/_sandbox/org/<org_id>/<module_name>/new")
    def create_record(org_id: str, module_name: str) -> BaseResponse | tuple[str, int]:
        org = load_org(org_id)
        metadata, module = load_module(org, module_name)
        return _save(org, metadata, module, None)

    @bp.get("/_sandbox/org/<org_id>/<module_name>/<record_id>")
    def show_record(org_id: str, module_name: str, record_id: str) -> str:
        org = load_org(org_id)
        metadata, module = load_module(org, module_name)
        row = zoho.records.get(org, module.api_name, int(record_id)) if record_id.isdigit() else None
        if row is None:
            abort(404)
        message = "Saved." if request.args.get("saved") else None
        return _render_record(org, metadata, module, row, row.data, message=message)

    @bp.post("/_sandbox/org/<org_id>/<module_name>/<record_id>")
    def update_record(org_id: str, module_name: str, record_id: str) -> BaseResponse | tuple[str, int]:
        org = load_org(org_id)
        metadata, module = load_module(org, module_name)
        row = zoho.records.get(org, module.api_name, int(record_id)) if record_id.isdigit() else None
        if row is None:
            abort(404)
        return _save(org, metadata, module, row)

    @bp.post("/_sandbox/org/<org_id>/<module_name>/<record_id>/delete")
    def delete_record(org_id: str, module_name: str, record_id: str) -> BaseResponse:
        org = load_org(org_id)
        metadata, module = load_module(org, module_name)
        outcome = zoho.records.delete(org, module, [record_id], org.current_user["id"])
        zoho.notifier.dispatch(org, metadata, outcome.changes, base_url())
        return redirect(f"/zoho/_sandbox/org/{org.id}/{module.api_name}/", 303)

    def _save(org: Org, metadata: Metadata, module: ModuleDef, row: Row | None) -> BaseResponse | tuple[str, int]:
        try:
            item = form_to_item(org, metadata, module, request.form)
        except FormError as error:
            return _render_record(org, metadata, module, row, row.data if row else {}, error=str(error)), 422
        if row is not None:
            item["id"] = str(row.id)
        outcome = zoho.records.write(org, module, [item], "update" if row else "insert", org.current_user["id"])
        result = outcome.results[0]
        if result["status"] != "success":
            details = result.get("details", {})
            problem = f"{result['code']}: {result['message']}"
            if details.get("api_name"):
                problem += f" ({details['api_name']})"
            return _render_record(org, metadata, module, row, row.data if row else {}, error=problem), 422
        # Saving in the web UI runs workflow rules and notifies channels exactly like an API write.
        zoho.notifier.dispatch(org, metadata, outcome.changes, base_url(), run_workflows=True)
        return redirect(f"/zoho/_sandbox/org/{org.id}/{module.api_name}/{result['details']['id']}?saved=1", 303)

    def _render_record(org: Org, metadata: Metadata, module: ModuleDef, row: Row | None, data: dict[str, Any],
                       message: str | None = None, error: str | None = None) -> str:
        fields = [f for f in module.fields if f.data_type not in ("subform",)
                  and f.api_name not in ("Created_By", "Modified_By", "Created_Time", "Modified_Time")]
        values = {f.api_name: value_for_form(org, f, data.get(f.api_name)) for f in fields}
        lookup_ids = [data[f.api_name] for f in fields if f.data_type == "lookup" and data.get(f.api_name)]
        subform = next((f for f in module.fields if f.data_type == "subform"), None)
        lines: list[dict[str, Any]] | None = None
        if subform is not None:
            existing = data.get(subform.api_name) or []
            lookup_ids += [line.get("Product_Name") for line in existing if line.get("Product_Name")]
        names_by_id = zoho.records.displays(org, lookup_ids)
        names = {f.api_name: names_by_id.get(data.get(f.api_name) or "", "") for f in fields if f.data_type == "lookup"}
        if subform is not None:
            lines = [{"id": line["id"], "product": line.get("Product_Name", ""),
                      "product_name": names_by_id.get(line.get("Product_Name") or "", ""),
                      "quantity": text_of(line.get("Quantity")), "list_price": text_of(line.get("List_Price")),
                      "discount": text_of(line.get("Discount")),
                      "tax": (line.get("Line_Tax") or [{}])[0].get("name", ""),
                      "net_total": text_of(line.get("Net_Total"))} for line in existing]
            lines += [{"id": "", "product": "", "product_name": "", "quantity": "", "list_price": "", "discount": "",
                       "tax": "", "net_total": ""} for _ in range(BLANK_LINES)]
        targets = {f.lookup for f in fields if f.data_type == "lookup" and f.lookup}
        if subform is not None:
            targets.add("Products")
        lookup_options = {target: _options(org, target) for target in targets if target}
        related = None
        if row is not None and "Products" in module.related and module.api_name == "Deals":
            linked = zoho.records.get_many(org, zoho.records.related_ids(org, row.id, "Products"))
            related = {"module": "Products", "rows": [{"id": r.id, "display": r.display} for r in linked.values()]}
        send_to_xero = None
        if row is not None and org.send_to_xero_url:
            send_to_xero = button_url(org.send_to_xero_url, module, metadata, row)
        return render_template_string(
            RECORD_PAGE, title=module.singular, org=org, module=module, record_id=row.id if row else None,
            display=row.display if row else "", created=org.format_time(row.created_at) if row else "",
            modified=org.format_time(row.modified_at) if row else "", fields=fields, values=values, names=names,
            lookup_options=lookup_options, lines=lines, subform_label=subform.label if subform else "",
            taxes=catalog.TAXES, related=related, send_to_xero=send_to_xero, message=message, error=error)

    def _options(org: Org, module_name: str) -> list[dict[str, Any]]:
        rows = zoho.store.query("SELECT id, display FROM zoho_record WHERE org_id = ? AND module = ? "
                                "ORDER BY id DESC LIMIT 100", (org.id, module_name))
        return [{"id": row["id"], "display": row["display"]} for row in rows]

    return bp


def value_for_form(org: Org, f: FieldDef, value: Any) -> str:
    if value is None:
        return ""
    if f.data_type == "datetime":
        return datetime.fromtimestamp(value, org.zone).strftime("%Y-%m-%dT%H:%M")
    return text_of(value)


def form_to_item(org: Org, metadata: Metadata, module: ModuleDef, form: Any) -> dict[str, Any]:
    """The editor's form as the JSON record an API client would send."""
    item: dict[str, Any] = {}
    for f in module.fields:
        if f.read_only or f.data_type == "subform":
            continue
        raw = form.get(f.api_name, "")
        data_type = f.data_type
        try:
            if data_type == "boolean":
                item[f.api_name] = raw == "true"
            elif data_type == "multiselectpicklist":
                item[f.api_name] = form.getlist(f.api_name) or None
            elif raw == "":
                item[f.api_name] = None
            elif data_type in ("integer", "bigint"):
                item[f.api_name] = int(raw)
            elif data_type in ("double", "currency", "percent"):
                item[f.api_name] = float(raw)
            elif data_type in ("lookup", "ownerlookup", "userlookup"):
                item[f.api_name] = {"id": raw.strip()}
            elif data_type == "datetime":
                local = datetime.fromisoformat(raw).replace(tzinfo=org.zone)
                item[f.api_name] = local.isoformat(timespec="seconds")
            else:
                item[f.api_name] = raw
        except ValueError:
            raise FormError(f"{f.label}: {raw!r} is not a valid {data_type}") from None
    subform = next((f for f in module.fields if f.data_type == "subform"), None)
    if subform is not None:
        item[subform.api_name] = _lines(form)
    return item


def _lines(form: Any) -> list[dict[str, Any]]:
    lines = []
    for index in range(int(form.get("line-count", 0) or 0)):
        prefix = f"line-{index}-"
        line_id = form.get(prefix + "id", "")
        product = form.get(prefix + "Product_Name", "").strip()
        if form.get(prefix + "delete") or (not line_id and not product):
            continue
        line: dict[str, Any] = {"Product_Name": {"id": product} if product else None}
        if line_id:
            line["id"] = line_id
        try:
            quantity = form.get(prefix + "Quantity", "")
            line["Quantity"] = float(quantity) if quantity else None
            price = form.get(prefix + "List_Price", "")
            if price:
                line["List_Price"] = float(price)
        except ValueError:
            raise FormError(f"Line {index + 1}: quantity and price must be numbers") from None
        discount = form.get(prefix + "Discount", "")
        line["Discount"] = discount or 0
        tax = form.get(prefix + "Tax", "")
        line["Line_Tax"] = [{"name": tax}] if tax else []
        lines.append(line)
    return lines


def button_url(template: str, module: ModuleDef, metadata: Metadata, row: Row) -> str:
    """A Zoho custom button ("Invoke a URL"): the URL with merge fields replaced by the record's values."""
    change = Change("update", module.api_name, str(row.id), [], row.data)
    return merge(template, module.api_name, module.singular, change, metadata, encode=True)
