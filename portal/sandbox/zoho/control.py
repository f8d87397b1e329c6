"""The Zoho-specific control API under ``BASE/zoho/_sandbox/`` (JSON, for tests, benchmarks and the demo):
orgs and their edition, custom fields, the Xero_Accounts module, workflow webhooks, the Send-to-Xero URL,
tokens (expire or revoke now, grant codes without the browser) and the sandbox's own settings.

The shared endpoints (reset, seed, stats, faults, clock, webhooks) come from the core server.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request

from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.catalog import FieldDef
from portal.sandbox.zoho.notify import validate_workflow
from portal.sandbox.zoho.oauth import AccountsError, is_local_redirect
from portal.sandbox.zoho.services import Zoho, base_url
from portal.sandbox.zoho.state import DEFAULT_SETTINGS, SETTINGS_KEY, Org, field_to_json, load_settings, zid

ORG_SETTINGS = ("edition", "credits_per_day", "user_licences", "latency_ms", "send_to_xero_url", "dc")


def describe_org(zoho: Zoho, org: Org) -> dict[str, Any]:
    metadata = zoho.orgs.metadata(org)
    return {
        "id": org.id, "company_name": org.company_name, "dc": org.dc, "time_zone": org.time_zone,
        "edition": org.edition, "user_licences": org.user_licences, "credits_per_day": org.daily_credits(),
        "credits_used": zoho.limits.used(org), "concurrency": org.edition_limits().concurrency,
        "latency_ms": org.latency_ms, "send_to_xero_url": org.send_to_xero_url,
        "users": [{"id": u["id"], "email": u["email"], "full_name": u["full_name"]} for u in org.users],
        "modules": {m.api_name: zoho.records.count(org, m.api_name) for m in metadata.api_modules()},
        "custom_fields": {name: [f["api_name"] for f in fields] for name, fields in org.custom_fields.items()},
        "workflow_webhooks": org.workflow_webhooks,
    }


def update_org(zoho: Zoho, org: Org, settings: dict[str, Any]) -> Org:
    unknown = set(settings) - set(ORG_SETTINGS)
    if unknown:
        raise ValueError(f"unknown org settings: {', '.join(sorted(unknown))}; use {', '.join(ORG_SETTINGS)}")
    if "edition" in settings:
        if settings["edition"] not in catalog.EDITIONS:
            raise ValueError(f"edition: one of {', '.join(catalog.EDITIONS)}")
        org.edition = settings["edition"]
    if "credits_per_day" in settings:
        value = settings["credits_per_day"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError("credits_per_day: a whole number, or null for the edition's allowance")
        org.credits_per_day = value
    if "user_licences" in settings:
        value = settings["user_licences"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("user_licences: a whole number of at least 1")
        org.user_licences = value
    if "latency_ms" in settings:
        latency = float(settings["latency_ms"])
        if not 0 <= latency <= 60_000:
            raise ValueError("latency_ms: between 0 and 60000")
        org.latency_ms = latency
    if "send_to_xero_url" in settings:
        url = str(settings["send_to_xero_url"] or "")
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("send_to_xero_url: an http(s) URL (merge fields like ${id} allowed)")
        org.send_to_xero_url = url
    if "dc" in settings:
        if settings["dc"] not in catalog.DATA_CENTRES:
            raise ValueError(f"dc: one of {', '.join(catalog.DATA_CENTRES)}")
        org.dc = settings["dc"]
    zoho.orgs.save(org)
    return org


def add_custom_field(zoho: Zoho, org: Org, spec: dict[str, Any]) -> dict[str, Any]:
    """Add a custom field as a CRM admin would in Setup; it appears in the fields metadata at once."""
    metadata = zoho.orgs.metadata(org)
    module = metadata.module(str(spec.get("module", "")), include_subforms=True)
    if module is None:
        raise ValueError("module: not a module of this org")
    label = str(spec.get("label") or spec.get("field_label") or "").strip()
    if not label:
        raise ValueError("label: required")
    api_name = str(spec.get("api_name") or catalog.api_name_for_label(label))
    if api_name in module.field_map:
        raise ValueError(f"a field {api_name} already exists in {module.api_name}")
    data_type = spec.get("data_type", "text")
    if data_type not in catalog.CUSTOM_FIELD_TYPES:
        raise ValueError(f"data_type: one of {', '.join(catalog.CUSTOM_FIELD_TYPES)}")
    default_length = {"textarea": 32000, "integer": 9, "double": 16, "currency": 16, "percent": 5}.get(data_type, 255)
    try:
        length = int(spec.get("length", default_length))
    except (TypeError, ValueError):
        raise ValueError("length: a whole number") from None
    picklist = tuple(str(value) for value in spec.get("pick_list_values", []))
    if data_type in ("picklist", "multiselectpicklist") and not picklist:
        raise ValueError("pick_list_values: a picklist needs values")
    lookup = spec.get("lookup")
    if data_type == "lookup" and metadata.module(str(lookup or "")) is None:
        raise ValueError("lookup: the module a lookup points to")
    field_id = zid(org.prefix, org.meta_seq)
    new = FieldDef(api_name, label, data_type, length=length, mandatory=bool(spec.get("mandatory", False)),
                   unique=bool(spec.get("unique", False)),
                   picklist=(("-None-", *picklist) if data_type == "picklist" and "-None-" not in picklist
                             else picklist),
                   lookup=str(lookup) if data_type == "lookup" else None,
                   decimal_place=2 if data_type in ("currency", "double", "percent") else None, custom=True,
                   id=field_id)
    org.meta_seq += 1
    org.custom_fields.setdefault(module.api_name, []).append(field_to_json(new))
    org.meta_modified_at = zoho.clock.now()
    zoho.orgs.save(org, metadata_changed=True)
    return {"module": module.api_name, "api_name": api_name, "id": field_id, "data_type": data_type}


def install_xero_accounts(zoho: Zoho, org: Org) -> dict[str, Any]:
    if "Xero_Accounts" not in org.custom_modules:
        org.custom_modules.append("Xero_Accounts")
        org.meta_modified_at = zoho.clock.now()
        zoho.orgs.save(org, metadata_changed=True)
    module = zoho.orgs.metadata(org).modules["Xero_Accounts"]
    return {"api_name": module.api_name, "id": module.id, "fields": [f.api_name for f in module.fields]}


def add_workflow(zoho: Zoho, org: Org, spec: dict[str, Any]) -> dict[str, Any]:
    hook = validate_workflow(spec, zoho.orgs.metadata(org))
    hook["id"] = secrets.token_hex(6)
    org.workflow_webhooks.append(hook)
    zoho.orgs.save(org)
    return hook


def build_blueprint(zoho: Zoho) -> Blueprint:
    bp = Blueprint("zoho_control_extra", __name__)

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    def bad(message: str, status: int = 400) -> tuple[Response, int]:
        return jsonify({"error": message}), status

    def org_or_404(org_id: str) -> Org | None:
        return zoho.orgs.get(org_id)

    @bp.get("/_sandbox/orgs")
    def orgs() -> Response:
        return jsonify({"orgs": [describe_org(zoho, org) for org in zoho.orgs.all()]})

    @bp.get("/_sandbox/orgs/<org_id>")
    def get_org(org_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        return jsonify(describe_org(zoho, org)) if org else bad("no such org", 404)

    @bp.post("/_sandbox/orgs/<org_id>")
    def set_org(org_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        if org is None:
            return bad("no such org", 404)
        try:
            update_org(zoho, org, body())
        except (ValueError, TypeError) as error:
            return bad(str(error))
        return jsonify(describe_org(zoho, org))

    @bp.post("/_sandbox/orgs/<org_id>/fields")
    def custom_field(org_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        if org is None:
            return bad("no such org", 404)
        try:
            return jsonify(add_custom_field(zoho, org, body()))
        except ValueError as error:
            return bad(str(error))

    @bp.post("/_sandbox/orgs/<org_id>/modules/Xero_Accounts")
    def xero_accounts(org_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        if org is None:
            return bad("no such org", 404)
        return jsonify(install_xero_accounts(zoho, org))

    @bp.get("/_sandbox/orgs/<org_id>/workflow-webhooks")
    def list_workflows(org_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        return jsonify({"workflow_webhooks": org.workflow_webhooks}) if org else bad("no such org", 404)

    @bp.post("/_sandbox/orgs/<org_id>/workflow-webhooks")
    def create_workflow(org_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        if org is None:
            return bad("no such org", 404)
        try:
            return jsonify(add_workflow(zoho, org, body()))
        except ValueError as error:
            return bad(str(error))

    @bp.delete("/_sandbox/orgs/<org_id>/workflow-webhooks/<hook_id>")
    def delete_workflow(org_id: str, hook_id: str) -> Response | tuple[Response, int]:
        org = org_or_404(org_id)
        if org is None:
            return bad("no such org", 404)
        before = len(org.workflow_webhooks)
        org.workflow_webhooks = [hook for hook in org.workflow_webhooks if hook["id"] != hook_id]
        if len(org.workflow_webhooks) == before:
            return bad("no such workflow webhook", 404)
        zoho.orgs.save(org)
        return jsonify({"workflow_webhooks": org.workflow_webhooks})

    @bp.get("/_sandbox/tokens")
    def tokens() -> Response:
        return jsonify({"tokens": zoho.tokens.describe(request.args.get("org_id"))})

    @bp.post("/_sandbox/tokens/expire")
    def expire() -> Response | tuple[Response, int]:
        data = body()
        if not data.get("token") and not data.get("org_id") and not data.get("all"):
            return bad('give "token", "org_id" or "all": true')
        return jsonify({"expired": zoho.tokens.expire(data.get("token"), data.get("org_id"))})

    @bp.post("/_sandbox/tokens/revoke")
    def revoke() -> Response | tuple[Response, int]:
        data = body()
        if not data.get("token") and not data.get("org_id") and not data.get("all"):
            return bad('give "token", "org_id" or "all": true')
        return jsonify({"revoked": zoho.tokens.revoke_matching(data.get("token"), data.get("org_id"))})

    @bp.post("/_sandbox/grant")
    def grant() -> Response | tuple[Response, int]:
        """A grant code as the consent page would issue it, without a browser (tests and scripts)."""
        data = body()
        org = zoho.orgs.get(str(data.get("org_id", ""))) if data.get("org_id") else zoho.orgs.all()[0]
        redirect_uri = str(data.get("redirect_uri", "http://localhost/callback"))
        scope = str(data.get("scope", "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,"
                                      "ZohoCRM.org.READ,ZohoCRM.notifications.ALL,ZohoCRM.coql.READ,ZohoCRM.bulk.READ"))
        if org is None:
            return bad("no such org", 404)
        if not is_local_redirect(redirect_uri):
            return bad("redirect_uri: an http(s) URI on localhost")
        access_type = str(data.get("access_type", "offline"))
        if access_type not in ("online", "offline"):
            return bad("access_type: online or offline")
        try:
            code = zoho.tokens.issue_code(org, org.current_user["id"], redirect_uri, scope, access_type)
        except AccountsError as error:
            return bad(error.body["error"], 429)
        return jsonify({"code": code, "location": org.dc, "accounts-server": f"{base_url()}/accounts",
                        "redirect_uri": redirect_uri, "org_id": org.id})

    @bp.get("/_sandbox/settings")
    def get_settings() -> Response:
        return jsonify(load_settings(zoho.store))

    @bp.post("/_sandbox/settings")
    def set_settings() -> Response | tuple[Response, int]:
        data = body()
        unknown = set(data) - set(DEFAULT_SETTINGS)
        if unknown:
            return bad(f"unknown settings: {', '.join(sorted(unknown))}; use {', '.join(DEFAULT_SETTINGS)}")
        try:
            values = {key: float(value) for key, value in data.items()}
        except (TypeError, ValueError):
            return bad("settings are numbers")
        if any(value < 0 for value in values.values()):
            return bad("settings cannot be negative")
        saved = zoho.store.get_json(SETTINGS_KEY) or {}
        zoho.store.put_json(SETTINGS_KEY, {**saved, **values})
        return jsonify(load_settings(zoho.store))

    return bp

