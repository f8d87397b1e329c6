"""The engine's tables as the migrations build them, on the suite's database (SQLite, or PostgreSQL when
PORTAL_TEST_DB=postgresql): upserted rollups, JSON columns, 64-bit keys, unique links per side id."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import RecordLink
from tests.sync.conftest import World


@pytest.fixture
def world_on_app_db(app: Any) -> Any:
    from portal.extensions import db

    session = Session(db.engine, expire_on_commit=False)
    yield World(session)
    session.close()


def test_a_sync_on_the_migrated_schema_links_audits_and_counts(world_on_app_db: World) -> None:
    world = world_on_app_db
    account = world.account("Zylker", Billing_City="Leeds")
    widget = world.product("Widget", "W-1")
    world.invoice(account, [(widget, 2, 10)])
    world.push("Invoices")
    world.push("Invoices")
    assert len(world.links()) == 3
    assert world.links("customer")[0].base["z"]["Billing_City|Addresses[AddressType=STREET].City"] == "Leeds"
    assert world.rollups() == {("zoho_to_xero", "Accounts", "created"): 1,
                               ("zoho_to_xero", "Products", "created"): 1,
                               ("zoho_to_xero", "Invoices", "created"): 1,
                               ("zoho_to_xero", "Invoices", "skipped"): 1}
    assert [row.action for row in world.audit()] == ["created", "created", "created", "skipped"]


def test_a_side_id_is_linked_once_per_organisation(world_on_app_db: World) -> None:
    world = world_on_app_db
    common = {"tenant_id": world.tenant_id, "entity": "customer", "zoho_org_id": "z", "xero_tenant_id": "x",
              "base": {}}
    world.session.add(RecordLink(zoho_id="1", xero_id="a", **common))
    world.session.commit()
    world.session.add(RecordLink(zoho_id="2", xero_id="a", **common))
    with pytest.raises(IntegrityError):
        world.session.commit()
    world.session.rollback()
    world.session.add(RecordLink(zoho_id="2", xero_id="a", **{**common, "xero_tenant_id": "another-org"}))
    world.session.commit()
