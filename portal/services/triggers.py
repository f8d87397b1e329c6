"""The use cases of the sync triggers that views, CLI commands and other services call:

- :func:`on_save_changed` — the settings were saved: (un)subscribe the Zoho channels to match.
- :func:`request_send` — Send to Xero: store the request and sync that record now (high-priority queue).
- :func:`receive_zoho` / :func:`receive_xero` — what the hooks do with a verified call.
- :func:`configure_sandboxes` — point the sandboxes' Send to Xero button and Xero webhook at this portal (demo).
- :func:`overview` — what the Triggers page shows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.queues import enqueue
from portal.models import Connection, ConnectionStatus, InboundEvent, PullWatermark, Side, Tenant, ZohoChannel
from portal.services import connections, hook_keys, inbound, scheduled_pull, zoho_channels
from portal.services import settings as tenant_settings
from portal.services.hook_keys import HookKeys
from portal.services.inbound import NewEvent
from portal.sync.settings import ZOHO_TO_XERO_MODULES, SyncSettings

log = logging.getLogger(__name__)

# How each trigger is named where people read it (the audit page's "why", the Triggers page).
TRIGGER_LABELS = {
    inbound.TRIGGER_ON_SAVE: _l("On save in Zoho"),
    inbound.TRIGGER_SEND: _l("Send to Xero"),
    inbound.TRIGGER_XERO_WEBHOOK: _l("Xero webhook"),
    inbound.TRIGGER_PULL: _l("Scheduled pull"),
}
ZOHO_ID = re.compile(r"^\d{1,19}$")  # Zoho record ids are numeric, up to 19 digits
XERO_CATEGORIES = {"CONTACT": "Contacts", "INVOICE": "Invoices"}
ZOHO_OPERATIONS = {"insert": "upsert", "update": "upsert", "delete": "delete"}


class TriggerError(Exception):
    """A request a hook or a form cannot accept; the message is translated and shown as is."""


def on_save_changed(tenant: Tenant) -> bool:
    """Call after saving settings that touch on-save or the Zoho → Xero modules. The channels are reconciled by
    a job; when Redis is down, by the maintenance job within 15 minutes. True when the job was enqueued."""
    try:
        enqueue("portal.jobs.triggers.reconcile_channels", tenant.id, queue="high",
                job_id=f"zoho-channels-{tenant.id}")
        return True
    except RedisError as error:
        log.warning("channel reconciliation of tenant %s left to the maintenance job: %s", tenant.id, error)
        return False


# --- Send to Xero ---------------------------------------------------------------------------------------------


def request_send(tenant: Tenant, module: str, record_id: str, *, kind: str,
                 user_id: int | None = None) -> InboundEvent:
    """Store a Send to Xero request and enqueue its sync on the high-priority queue (or, with Redis down, leave it
    to the periodic re-enqueue). Raises TriggerError for a module or id that cannot be sent."""
    module, record_id = module.strip(), record_id.strip()
    if module not in ZOHO_TO_XERO_MODULES:
        raise TriggerError(_("Records of %(module)s cannot be sent to Xero.", module=module or "?"))
    if not ZOHO_ID.match(record_id):
        raise TriggerError(_("%(id)s is not a Zoho CRM record id (a number of up to 19 digits).",
                             id=record_id[:40] or "?"))
    event = inbound.store_one(tenant.id, "zoho", NewEvent(kind=kind, module=module, record_ids=[record_id],
                                                          dedupe_key=f"send:{uuid.uuid4().hex}"),
                              requested_by_id=user_id)
    try:
        enqueue("portal.jobs.triggers.send_record", tenant.id, event.id, queue="high")
    except RedisError as error:
        log.warning("Send to Xero %s stored, enqueued later: %s", event.id, error)
    return event


# --- hooks ----------------------------------------------------------------------------------------------------


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Accepted:
    stored: int
    woken: bool


def receive_zoho_notification(keys: HookKeys, payload: Mapping[str, Any]) -> Accepted:
    """A notification of one of the tenant's channels (FACTS.md §6): ids only; the records are read when synced.
    The caller has checked the channel token."""
    channel_id = str(payload.get("channel_id") or "")
    known = db.session.scalar(select(ZohoChannel.id).where(ZohoChannel.tenant_id == keys.tenant_id,
                                                         ZohoChannel.channel_id == channel_id))
    module = str(payload.get("module") or "")
    operation = ZOHO_OPERATIONS.get(str(payload.get("operation") or ""))
    ids = [str(i) for i in payload.get("ids") or [] if ZOHO_ID.match(str(i))]
    if known is None or operation is None or module not in ZOHO_TO_XERO_MODULES or not ids:
        # A channel we no longer keep (removed, or of an org reset away) or a module we do not sync: accepted and
        # dropped, so Zoho has nothing to retry.
        return Accepted(0, False)
    event = NewEvent(kind="notification", module=module, record_ids=ids, operation=operation,
                     dedupe_key=f"zn:{_digest(channel_id, payload.get('server_time'), module, operation, ids)}",
                     payload=dict(payload))
    stored = inbound.store(keys.tenant_id, "zoho", [event])
    return Accepted(stored, inbound.wake(keys.tenant_id, "zoho") if stored else False)


def receive_zoho_workflow(keys: HookKeys, module: str, record_id: str, operation: str = "upsert") -> Accepted:
    """A workflow rule's webhook: one record of one module. Two saves send identical calls, so each call is an
    event of its own (the coalescing, not the dedupe, makes a burst one sync)."""
    if module not in ZOHO_TO_XERO_MODULES:
        raise TriggerError(_("Records of %(module)s cannot be sent to Xero.", module=module or "?"))
    if not ZOHO_ID.match(record_id):
        raise TriggerError(_("%(id)s is not a Zoho CRM record id (a number of up to 19 digits).",
                             id=record_id[:40] or "?"))
    event = NewEvent(kind="workflow", module=module, record_ids=[record_id], operation=operation,
                     dedupe_key=f"zw:{uuid.uuid4().hex}", payload={"module": module, "id": record_id})
    stored = inbound.store(keys.tenant_id, "zoho", [event])
    return Accepted(stored, inbound.wake(keys.tenant_id, "zoho"))


def receive_xero(payload: Mapping[str, Any]) -> int:
    """A verified Xero webhook delivery: each event goes to the tenant whose Xero connection is its organisation.
    Duplicates (Xero delivers at least once) are stored once; order does not matter, since every sync reads the
    record's current state. Returns how many events were new."""
    events = payload.get("events") or []
    by_org: dict[str, list[NewEvent]] = {}
    for item in events if isinstance(events, list) else []:
        if not isinstance(item, dict):
            continue
        module = XERO_CATEGORIES.get(str(item.get("eventCategory") or ""))
        resource_id = str(item.get("resourceId") or "")
        org = str(item.get("tenantId") or "")
        if module is None or not resource_id or not org:
            continue
        key = _digest(org, item.get("eventCategory"), item.get("eventType"), resource_id, item.get("eventDateUtc"))
        by_org.setdefault(org, []).append(NewEvent(kind="webhook", module=module, record_ids=[resource_id],
                                                   dedupe_key=f"xw:{key}", payload=dict(item)))
    if not by_org:
        return 0
    owners = db.session.execute(select(Connection.remote_org_id, Connection.tenant_id).where(
        Connection.side == Side.XERO.value, Connection.status == ConnectionStatus.CONNECTED.value,
        Connection.remote_org_id.in_(list(by_org)))).all()
    stored = 0
    for owner_org, tenant_id in owners:
        new = inbound.store(tenant_id, "xero", by_org[str(owner_org)])
        stored += new
        if new:
            inbound.wake(tenant_id, "xero")
    return stored


# --- the sandboxes (demo and tests) ----------------------------------------------------------------------------


def configure_sandboxes(tenant: Tenant) -> dict[str, Any]:
    """Point the local sandboxes at this portal for ``tenant``: the Zoho org's Send to Xero button opens the
    tenant's signed URL, and the Xero sandbox's (app-wide) webhook posts to ``/hooks/xero`` signed with
    XERO_WEBHOOK_KEY. Only for the sandboxes: on the real services these are set in Zoho CRM's and Xero's own
    settings (README, "Sync triggers")."""
    from portal.sandbox.client import SandboxControl

    settings = connections.settings()
    control = SandboxControl(settings.sandbox_url)
    answer: dict[str, Any] = {}
    zoho = connections.connection_for(tenant, Side.ZOHO)
    if settings.zoho_uses_sandbox and zoho.remote_org_id:
        url = hook_keys.send_button_url(hook_keys.keys_for(tenant))
        answer["zoho"] = control.zoho.call("POST", f"orgs/{zoho.remote_org_id}", {"send_to_xero_url": url})
    if settings.xero_uses_sandbox and settings.xero_webhook_key:
        answer["xero"] = control.xero.webhooks(url=hook_keys.xero_hook_url(), key=settings.xero_webhook_key,
                                               enabled=True, categories=["CONTACT", "INVOICE"])
    return answer


# --- the Triggers page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    settings: SyncSettings
    keys: HookKeys
    channels: Sequence[ZohoChannel]
    watermarks: Sequence[PullWatermark]
    recent: Sequence[InboundEvent]
    pending: int
    pull_slot: int
    xero_webhook_configured: bool


def overview(tenant: Tenant) -> Overview:
    recent = list(db.session.scalars(select(InboundEvent).where(InboundEvent.tenant_id == tenant.id)
                                     .order_by(InboundEvent.id.desc()).limit(20)))
    return Overview(
        settings=tenant_settings.current(tenant).settings,
        keys=hook_keys.keys_for(tenant),
        channels=zoho_channels.channels_for(tenant),
        watermarks=scheduled_pull.pull_status(tenant),
        recent=recent,
        pending=inbound.pending_count(tenant.id),
        pull_slot=scheduled_pull.slot(tenant.id),
        xero_webhook_configured=bool(connections.settings().xero_webhook_key),
    )


# --- what a person reads about one Send to Xero ------------------------------------------------------------------

ACTION_TITLES = {
    "created": _l("Created in Xero."),
    "updated": _l("Updated in Xero."),
    "linked": _l("Linked to the matching record that was already in Xero."),
    "deleted": _l("Deleted in Xero."),
    "archived": _l("Archived in Xero."),
    "voided": _l("Voided in Xero."),
}
IGNORED_REASONS = {
    "not_connected": _l("It was not sent: Zoho CRM or Xero is not connected."),
    "connection_reset": _l("It was not sent: the connection was reset after the request."),
}


@dataclass(frozen=True)
class OutcomeView:
    done: bool
    status: str  # pending, synced, skipped, failed, not_found, ignored
    title: str
    detail: str
    module: str
    module_label: str
    record_id: str
    record_name: str
    xero_url: str | None
    zoho_url: str | None


def outcome_view(event: InboundEvent) -> OutcomeView:
    from portal.services.remote_links import XERO_MODULE_OF_ENTITY, xero_record_url, zoho_record_url
    from portal.sync.messages import Msg
    from portal.sync.settings import MODULE_LABELS

    outcome = event.outcome or {}
    record_id = event.record_ids[0] if event.record_ids else ""
    zoho = db.session.scalar(select(Connection).where(Connection.tenant_id == event.tenant_id,
                                                      Connection.side == Side.ZOHO.value))
    zoho_url = zoho_record_url(event.module, record_id, zoho.remote_org_id if zoho else None,
                               zoho.zoho_location if zoho else None)
    status = str(outcome.get("status") or "pending") if event.processed_at else "pending"
    record_name = str(outcome.get("record_name") or "")
    detail, xero_url = "", None
    if status == "pending":
        title = _("Sending to Xero…")
        if event.last_error:
            detail = _("The last attempt failed and is retried shortly: %(error)s", error=event.last_error)
    elif status == "synced":
        title = str(ACTION_TITLES.get(str(outcome.get("action")), _("Sent to Xero.")))
        xero_url = xero_record_url(XERO_MODULE_OF_ENTITY.get(str(outcome.get("entity")), ""),
                                   outcome.get("xero_id"), outcome.get("xero_tenant_id"))
    elif status == "skipped":
        title = _("Not sent to Xero.")
        message = Msg.from_json(outcome.get("message"))
        detail = message.render(_) if message else ""
        xero_url = xero_record_url(XERO_MODULE_OF_ENTITY.get(str(outcome.get("entity")), ""),
                                   outcome.get("xero_id"), outcome.get("xero_tenant_id"))
    elif status == "failed":
        title = _("Xero did not accept it.")
        message = Msg.from_json(outcome.get("message"))
        detail = str(outcome.get("error_text") or (message.render(_) if message else ""))
    elif status == "not_found":
        title = _("Zoho CRM has no such record.")
        detail = _("No %(module)s record with the id %(id)s was found in Zoho CRM.", module=event.module,
                   id=record_id)
    else:
        title = _("Not sent to Xero.")
        detail = str(IGNORED_REASONS.get(str(outcome.get("reason")), outcome.get("reason") or ""))
    return OutcomeView(done=status != "pending", status=status, title=title, detail=detail, module=event.module,
                       module_label=_(MODULE_LABELS.get(event.module, event.module)), record_id=record_id,
                       record_name=record_name, xero_url=xero_url, zoho_url=zoho_url)

