"""Endpoints that Zoho CRM and Xero call: notifications and workflow webhooks, the Zoho Send to Xero button,
Xero webhooks. No session and no CSRF token: each authenticates by a signature or a tenant secret, compared in
constant time, and each stores what it received before it answers (portal.services.inbound).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.extensions import csrf, db, limiter
from portal.models import InboundEvent, Tenant
from portal.services import connections, hook_keys, triggers

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

MAX_BODY_BYTES = 1024 * 1024  # a Xero delivery holds at most 100 small events; Zoho sends ids only
STATUS_LINK_SECONDS = 24 * 3600


def _empty(status: int) -> Response:
    # Xero: the answer has no body and sets no cookie (FACTS.md §5); Zoho ignores the body.
    return Response(status=status)


def _too_large() -> bool:
    return (request.content_length or 0) > MAX_BODY_BYTES


def _hook_token_key() -> str:
    return f"hook:{(request.view_args or {}).get('token', '')}"


# --- Zoho -----------------------------------------------------------------------------------------------------


def _zoho_payload() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form.to_dict()


@bp.post("/zoho/<token>")
@csrf.exempt
def zoho(token: str) -> ResponseReturnValue:
    """A notification of a channel (JSON with ``channel_id`` and ``token``, FACTS.md §6) or a workflow rule's
    webhook (form or JSON with ``module``, ``id`` and ``secret``; ``operation=delete`` for a delete rule)."""
    if _too_large():
        return _empty(413)
    keys = hook_keys.keys_for_token(token)
    if keys is None:
        return _empty(404)
    payload = _zoho_payload()
    if "channel_id" in payload:
        if not hook_keys.matches(keys.channel_token, payload.get("token")):
            return _empty(401)
        triggers.receive_zoho_notification(keys, payload)
        return {"status": "accepted"}
    secret = payload.get("secret") or request.args.get("secret")
    if not hook_keys.matches(keys.workflow_secret, secret):
        return _empty(401)
    operation = "delete" if str(payload.get("operation", "")).lower() == "delete" else "upsert"
    try:
        triggers.receive_zoho_workflow(keys, str(payload.get("module") or ""), str(payload.get("id") or ""),
                                       operation)
    except triggers.TriggerError as error:
        return {"status": "error", "message": str(error)}, 400
    return {"status": "accepted"}


def _status_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(connections.settings().secret_key, salt="send-to-xero-status")


@bp.get("/zoho/<token>/send")
@limiter.limit("20 per minute", key_func=_hook_token_key)
@limiter.limit("60 per minute")
def send_button(token: str) -> ResponseReturnValue:
    """The Zoho custom button's URL. A Zoho user who clicks it is usually not signed in to the portal, so the
    URL itself is the credential: the tenant's hook token and its Send to Xero key (unguessable, bound to the
    tenant, checked in constant time). All it can do is sync one record of that tenant as its settings allow,
    which the tenant's own saves do anyway; it is rate-limited per tenant and per address."""
    keys = hook_keys.keys_for_token(token)
    if keys is None or not hook_keys.matches(keys.send_key, request.args.get("key")):
        abort(404)
    tenant = db.session.get(Tenant, keys.tenant_id)
    if tenant is None:
        abort(404)
    try:
        event = triggers.request_send(tenant, request.args.get("module", ""), request.args.get("id", ""),
                                      kind="send_button")
    except triggers.TriggerError as error:
        abort(400, description=str(error))
    reference = _status_serializer().dumps([tenant.id, event.id])
    return redirect(url_for("hooks.send_status", token=token, reference=reference))


@bp.get("/zoho/<token>/send/<reference>")
def send_status(token: str, reference: str) -> ResponseReturnValue:
    """What became of one Send to Xero from the Zoho button; the reference is signed, so only the person the
    button sent here can read it. The page refreshes itself until the sync is done."""
    keys = hook_keys.keys_for_token(token)
    if keys is None:
        abort(404)
    try:
        tenant_id, event_id = _status_serializer().loads(reference, max_age=STATUS_LINK_SECONDS)
    except (BadSignature, ValueError, TypeError):
        abort(404)
    event = db.session.get(InboundEvent, event_id)
    if event is None or event.tenant_id != keys.tenant_id or tenant_id != keys.tenant_id:
        abort(404)
    return render_template("triggers/send_public.html", event=event, outcome=triggers.outcome_view(event),
                           title=_("Send to Xero"))


# --- Xero -----------------------------------------------------------------------------------------------------


@bp.post("/xero")
@csrf.exempt
def xero() -> ResponseReturnValue:
    """Xero webhooks (FACTS.md §5): ``x-xero-signature`` is base64(HMAC-SHA256(webhook key, raw body)),
    checked before the body is parsed; 200 for a valid signature, 401 otherwise, both without a body. The
    intent-to-receive check is a delivery with no events and gets the same answers."""
    if _too_large():
        return _empty(413)
    key = connections.settings().xero_webhook_key
    body = request.get_data(cache=False)
    expected = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    if not key or not hook_keys.matches(expected, request.headers.get("x-xero-signature")):
        return _empty(401)
    try:
        payload = json.loads(body)
    except ValueError:
        return _empty(400)
    if isinstance(payload, dict):
        triggers.receive_xero(payload)
    return _empty(200)
