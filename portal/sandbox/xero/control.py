"""Xero-specific controls under ``/xero/_sandbox/`` (next to the shared reset, seed, stats, faults, clock and
webhooks): mint, expire or revoke tokens; per-organisation settings (daily limit, lock dates, offline);
disconnecting an organisation from Xero's side; the rate limits themselves. All JSON, documented in the README.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from portal.sandbox.xero.books import Org, all_orgs, load_org
from portal.sandbox.xero.dates import DateFormatError, date_of_ms, parse_request_day
from portal.sandbox.xero.demo import DEMO_BY_KEY
from portal.sandbox.xero.scopes import parse_scope
from portal.sandbox.xero.tokens import unknown_scopes

if TYPE_CHECKING:
    from portal.sandbox.xero import XeroSandbox

DEFAULT_SCOPE = "openid profile email offline_access accounting.contacts accounting.settings accounting.transactions " \
                "accounting.reports.read"


def describe_org(org: Org) -> dict[str, Any]:
    return {
        "id": org.id, "name": org.name, "country": org.country, "base_currency": org.base_currency,
        "class": org.data.get("Class"), "daily_limit": org.daily_limit, "offline": org.offline,
        "period_lock_date": date_of_ms(org.period_lock_ms).isoformat() if org.period_lock_ms is not None else None,
        "end_of_year_lock_date": date_of_ms(org.end_of_year_lock_ms).isoformat()
        if org.end_of_year_lock_ms is not None else None,
    }


def control_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_controls", __name__)

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    def bad_request(message: str) -> tuple[Response, int]:
        return jsonify({"error": message}), 400

    def org_or_none(key: str) -> Org | None:
        return sandbox.find_org(key)

    @bp.post("/_sandbox/tokens")
    def mint() -> Response | tuple[Response, int]:
        data = body()
        scopes = parse_scope(data.get("scope") or DEFAULT_SCOPE)
        if unknown_scopes(scopes):
            return bad_request(f"unknown scopes: {' '.join(unknown_scopes(scopes))}")
        tenants = data.get("tenants", "all")
        orgs = all_orgs(sandbox.store.connection)
        if tenants == "all":
            tenant_ids = [org.id for org in orgs]
        elif isinstance(tenants, list):
            found = [sandbox.find_org(str(key)) for key in tenants]
            if any(org is None for org in found):
                return bad_request("unknown organisation in tenants")
            tenant_ids = [org.id for org in found if org is not None]
        else:
            return bad_request('tenants must be "all" or a list of organisation ids or keys')
        return jsonify(sandbox.identity.mint(scopes, tenant_ids))

    @bp.post("/_sandbox/tokens/expire")
    def expire() -> Response | tuple[Response, int]:
        token = body().get("token")
        if not isinstance(token, str) or not token:
            return bad_request("token is required")
        try:
            kind = sandbox.identity.expire(token)
        except ValueError as error:
            return bad_request(str(error))
        return jsonify({"expired": kind})

    @bp.post("/_sandbox/tokens/revoke")
    def revoke() -> Response | tuple[Response, int]:
        token = body().get("token")
        if not isinstance(token, str) or not token:
            return bad_request("token is required")
        try:
            kind = sandbox.identity.revoke_any(token)
        except ValueError as error:
            return bad_request(str(error))
        return jsonify({"revoked": kind})

    @bp.get("/_sandbox/connections")
    def connections() -> Response:
        return jsonify(sandbox.identity.describe())

    @bp.get("/_sandbox/orgs")
    def orgs() -> Response:
        return jsonify([describe_org(org) for org in all_orgs(sandbox.store.connection)])

    @bp.get("/_sandbox/orgs/<key>")
    def org_settings(key: str) -> Response | tuple[Response, int]:
        org = org_or_none(key)
        if org is None:
            return jsonify({"error": "no such organisation"}), 404
        return jsonify(describe_org(org))

    @bp.post("/_sandbox/orgs/<key>")
    def change_org(key: str) -> Response | tuple[Response, int]:
        org = org_or_none(key)
        if org is None:
            return jsonify({"error": "no such organisation"}), 404
        try:
            updated = sandbox.change_org(org, body())
        except (ValueError, TypeError, DateFormatError) as error:
            return bad_request(str(error))
        return jsonify(describe_org(updated))

    @bp.post("/_sandbox/orgs/<key>/disconnect")
    def disconnect(key: str) -> Response | tuple[Response, int]:
        org = org_or_none(key)
        if org is None:
            return jsonify({"error": "no such organisation"}), 404
        return jsonify({"disconnected": sandbox.identity.disconnect_tenant(org.id)})

    @bp.get("/_sandbox/limits")
    def limits() -> Response:
        return jsonify(sandbox.limiter.describe())

    @bp.post("/_sandbox/limits")
    def set_limits() -> Response | tuple[Response, int]:
        try:
            sandbox.limiter.configure(body())
        except (ValueError, TypeError) as error:
            return bad_request(str(error))
        return jsonify(sandbox.limiter.describe())

    return bp


def parse_org_settings(data: dict[str, Any]) -> dict[str, Any]:
    """The columns an org settings change sets, validated."""
    unknown = set(data) - {"daily_limit", "period_lock_date", "end_of_year_lock_date", "offline"}
    if unknown:
        raise ValueError(f"unknown organisation settings: {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    if "daily_limit" in data:
        limit = int(data["daily_limit"])
        if limit < 1:
            raise ValueError("daily_limit must be at least 1")
        changes["daily_limit"] = limit
    for name, column in (("period_lock_date", "period_lock_ms"), ("end_of_year_lock_date", "end_of_year_lock_ms")):
        if name in data:
            changes[column] = parse_request_day(data[name]) if data[name] else None
    if "offline" in data:
        changes["offline"] = 1 if bool(data["offline"]) else 0
    return changes


def load_by_key(conn: Any, key: str) -> Org | None:
    demo = DEMO_BY_KEY.get(key.lower())
    found = load_org(conn, demo.id if demo else key.lower())
    if found is not None:
        return found
    return next((org for org in all_orgs(conn) if org.name == key), None)
