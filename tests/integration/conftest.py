"""A tenant with both sides connected to the sandboxes through the real consent pages, and everything on."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.extensions import db
from portal.models import Tenant
from portal.models.sync import SyncConfig
from portal.sync.settings import SyncSettings
from tests.conftest import sign_in
from tests.connections.consent import connect_xero, connect_zoho

XERO_UK = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b02"


@dataclass
class ConnectedTenant:
    tenant: Tenant
    client: object

    def use_settings(self, settings: SyncSettings) -> None:
        row = db.session.query(SyncConfig).filter_by(tenant_id=self.tenant.id).one_or_none()
        if row is None:
            row = SyncConfig(tenant_id=self.tenant.id, settings=settings.to_json())
            db.session.add(row)
        else:
            row.settings = settings.to_json()
            row.revision += 1
        db.session.commit()


@pytest.fixture
def connected(app, client, acme, acme_admin, sandbox) -> ConnectedTenant:
    sandbox.zoho.call("POST", "settings", {"search_index_lag_seconds": 0})
    sign_in(client, acme_admin)
    assert "Connected to" in connect_zoho(client)
    # The UK demo organisation charges 20% VAT (OUTPUT2), like the Zoho demo org's "VAT" tax.
    assert "Connected to" in connect_xero(client, [XERO_UK])
    tenant = ConnectedTenant(acme, client)
    tenant.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2"))
    return tenant
