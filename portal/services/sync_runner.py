"""Everything a job needs to run the engine for one tenant: its settings, pinned mappings, and the two ports
over its live connections. Jobs, hooks and CLI commands all build their engine here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portal.models import Connection, Side, Tenant
from portal.services import connections
from portal.services import settings as tenant_settings
from portal.services.ports import XeroPortAdapter, ZohoPortAdapter
from portal.sync.engine import EventSink, SyncEngine
from portal.sync.mapping_store import MappingSet, load_mappings
from portal.sync.settings import SyncSettings
from portal.sync.specs import entity_specs


class NotConnected(Exception):
    """A side the run needs is not connected; the message is shown to the user."""

    def __init__(self, side: Side) -> None:
        name = "Zoho CRM" if side is Side.ZOHO else "Xero"
        super().__init__(_("%(side)s is not connected. Connect it on the Connections page first.", side=name))
        self.side = side


@dataclass(frozen=True)
class TenantConnections:
    zoho: Connection
    xero: Connection

    @property
    def generation(self) -> tuple[int, int]:
        """Queued work records this; a reset of either connection changes it, and the work stops."""
        return self.zoho.generation, self.xero.generation


def live_connections(tenant: Tenant) -> TenantConnections:
    zoho = connections.connection_for(tenant, Side.ZOHO)
    xero = connections.connection_for(tenant, Side.XERO)
    for side, connection in ((Side.ZOHO, zoho), (Side.XERO, xero)):
        if not connection.is_connected or not connection.remote_org_id:
            raise NotConnected(side)
    return TenantConnections(zoho, xero)


def zoho_fields_by_module(settings: SyncSettings, mappings: MappingSet) -> dict[str, set[str]]:
    """The Zoho fields each module's rules read, so list calls ask for those (≤ 50) and nothing more."""
    fields: dict[str, set[str]] = {}
    for spec in entity_specs(settings).values():
        mapping = mappings.get(spec.pair)
        fields.setdefault(spec.zoho_module, set()).update(mapping.zoho_fields())
        fields[spec.zoho_module].update(spec.zoho_name)
        fields[spec.zoho_module].update(spec.zoho_match)
    return fields


def build_engine(
    session: Session,
    tenant: Tenant,
    *,
    trigger: str,
    run_id: str | None = None,
    dry_run: bool = False,
    pins: Mapping[str, int] | None = None,
    sink: EventSink | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncEngine:
    linked = live_connections(tenant)
    settings = tenant_settings.current(tenant).settings
    mappings = load_mappings(session, tenant.id, pins=pins, customer_module=settings.customer_module)
    zoho = ZohoPortAdapter(connections.zoho_client(linked.zoho), linked.zoho.remote_org_id or "",
                           mapped_fields=zoho_fields_by_module(settings, mappings),
                           won_deal_stage=settings.won_deal_stage)
    xero = XeroPortAdapter(connections.xero_client(linked.xero))
    return SyncEngine(session, zoho, xero, tenant_id=tenant.id, settings=settings, mappings=mappings,
                      sink=sink, run_id=run_id, trigger=trigger, dry_run=dry_run, sleep=sleep)
