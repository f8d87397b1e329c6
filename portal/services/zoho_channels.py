"""Zoho notification channels for on-save: one channel per enabled Zoho → Xero module, subscribed while
on-save is on, renewed before it lapses, re-created when Zoho lost it, dropped when on-save goes off.

Zoho (FACTS.md §6): a channel expires at most a week ahead, and an expiry beyond a week silently becomes one
hour, so channels ask for six days and are renewed (``PUT actions/watch``) once less than a day is left. Every
maintenance run lists the org's live channels (one call), so a channel Zoho dropped (expired while we were down,
deleted by an admin) is noticed and subscribed again. Each notification carries the tenant's channel token,
which the hook checks in constant time.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from portal.connectors.errors import ConnectorError, Invalid
from portal.connectors.zoho.client import ZohoClient
from portal.extensions import db
from portal.models import Side, Tenant, ZohoChannel, utcnow
from portal.services import connections, hook_keys
from portal.services import settings as tenant_settings
from portal.sync.settings import ZOHO_TO_XERO_MODULES, Direction, SyncSettings

log = logging.getLogger(__name__)

CHANNEL_LIFETIME = timedelta(days=6)  # under Zoho's one-week limit, with room for clock skew
RENEW_WHEN_LEFT = timedelta(days=1)


def wanted_modules(settings: SyncSettings) -> list[str]:
    if not settings.on_save:
        return []
    return [m for m in ZOHO_TO_XERO_MODULES if settings.switches(Direction.ZOHO_TO_XERO, m).enabled]


@dataclass
class ChannelReport:
    subscribed: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def channels_for(tenant: Tenant) -> list[ZohoChannel]:
    return list(db.session.scalars(
        select(ZohoChannel).where(ZohoChannel.tenant_id == tenant.id).order_by(ZohoChannel.module)))


def _new_channel_id() -> str:
    # Zoho: channel_id is a long the subscriber chooses; random so that no two tenants ever share one.
    return str(secrets.randbits(62) | (1 << 50))


def _parse_expiry(result_record: dict[str, Any] | None) -> datetime | None:
    events = (result_record or {}).get("events") or []
    for event in events:
        raw = event.get("channel_expiry") if isinstance(event, dict) else None
        if raw:
            try:
                parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            except ValueError:
                continue
            if parsed.tzinfo is not None:
                return parsed
    return None


def _is_not_subscribed(error: ConnectorError) -> bool:
    return error.code == "NOT_SUBSCRIBED" or "not subscribed" in str(error).lower()


def reconcile(tenant: Tenant, *, now: datetime | None = None) -> ChannelReport:
    """Make Zoho hold exactly the channels the tenant's settings want, each with more than a day to live.
    Commits; raises only when Zoho cannot be reached at all (the caller retries on its next run)."""
    now = now or utcnow()
    report = ChannelReport()
    zoho = connections.connection_for(tenant, Side.ZOHO)
    org_id = zoho.remote_org_id or ""
    rows = channels_for(tenant)
    # Channels of another org (Zoho reconnected elsewhere) cannot be removed with this org's token; forget them.
    for row in rows:
        if row.zoho_org_id != org_id or not zoho.is_connected:
            db.session.delete(row)
    db.session.commit()
    if not zoho.is_connected or not org_id:
        return report
    rows = [row for row in rows if row.zoho_org_id == org_id]
    wanted = wanted_modules(tenant_settings.current(tenant).settings)
    if not rows and not wanted:
        return report
    client = connections.zoho_client(zoho)
    remote = {str(entry.get("channel_id")): entry for entry in client.watched()}
    keys = hook_keys.keys_for(tenant)
    notify_url = hook_keys.zoho_hook_url(keys)

    for row in rows:
        if row.module not in wanted:
            _unsubscribe(client, row, present=row.channel_id in remote)
            report.removed.append(row.module)
    db.session.commit()

    by_module = {row.module: row for row in rows}
    available: set[str] | None = None
    for module in wanted:
        if (by_module.get(module) is None or by_module[module].status != "active") and available is None:
            # A custom module (Xero_Accounts) may not exist in this org: Zoho would refuse the whole channel.
            available = {str(m.get("api_name")) for m in client.modules()}
        if available is not None and module not in available:
            row = by_module.get(module) or ZohoChannel(tenant_id=tenant.id, zoho_org_id=org_id, module=module,
                                                       channel_id=_new_channel_id())
            row.status, row.last_error, row.expires_at = "unavailable", None, None
            db.session.add(row)
            db.session.commit()
            report.failed[module] = "unavailable"
            continue
        existing = by_module.get(module)
        if existing is not None:
            row = existing
        else:
            row = ZohoChannel(tenant_id=tenant.id, zoho_org_id=org_id, module=module, channel_id=_new_channel_id(),
                              status="pending")
            db.session.add(row)
            # Saved before Zoho hears of it: a notification that races our commit still finds its channel.
            db.session.commit()
        entry = remote.get(row.channel_id)
        current = (entry is not None and entry.get("notify_url") == notify_url
                   and entry.get("token") == keys.channel_token)
        if current and row.status == "active" and row.expires_at and row.expires_at - now > RENEW_WHEN_LEFT:
            continue
        lost = entry is None and row.status == "active"
        body = {"channel_id": int(row.channel_id), "events": [f"{module}.all"], "notify_url": notify_url,
                "token": keys.channel_token, "channel_expiry": (now + CHANNEL_LIFETIME).isoformat(timespec="seconds"),
                "notify_on_related_action": False}
        try:
            results = client.watch([body], renew=entry is not None)
            if entry is not None and not results[0].ok and (results[0].errors[0].code == "NOT_SUBSCRIBED"):
                results = client.watch([body])
        except Invalid as error:
            if entry is not None and _is_not_subscribed(error):
                # Zoho says the channel is gone after all: subscribe it again.
                results = client.watch([body])
                lost = True
            else:
                _failed(row, str(error), report)
                continue
        except ConnectorError as error:
            _failed(row, str(error), report)
            continue
        result = results[0]
        if not result.ok:
            _failed(row, result.message or "refused", report)
            continue
        was_new = row.status == "pending"
        row.status = "active"
        row.expires_at = _parse_expiry(result.record) or now + CHANNEL_LIFETIME
        row.renewed_at = now
        row.last_error = None
        if lost:
            row.recreated_count += 1
            report.recreated.append(module)
        elif was_new or entry is None:
            report.subscribed.append(module)
        else:
            report.renewed.append(module)
        db.session.commit()
    return report


def _failed(row: ZohoChannel, message: str, report: ChannelReport) -> None:
    row.status = "failed"
    row.last_error = message[:2000]
    report.failed[row.module] = message
    db.session.commit()
    log.warning("Zoho channel for %s of tenant %s: %s", row.module, row.tenant_id, message)


def _unsubscribe(client: ZohoClient, row: ZohoChannel, *, present: bool) -> None:
    if present:
        try:
            client.unwatch([row.channel_id])
        except ConnectorError as error:
            if not _is_not_subscribed(error):
                raise
    db.session.execute(delete(ZohoChannel).where(ZohoChannel.id == row.id))


def tenants_to_maintain() -> list[int]:
    """Tenants with channels, or with on-save on: whose channels may need renewing, re-creating or removing."""
    from portal.models.sync import SyncConfig

    with_channels = set(db.session.scalars(select(ZohoChannel.tenant_id).distinct()))
    with_on_save = {row.tenant_id for row in db.session.scalars(select(SyncConfig))
                    if SyncSettings.from_json(row.settings).on_save}
    return sorted(with_channels | with_on_save)
