"""The engine, through the port adapters and the HTTP connectors, against both sandboxes."""

from __future__ import annotations

from portal.extensions import db
from portal.models.sync import AuditEntry
from portal.services import connections
from portal.services.sync_runner import build_engine, live_connections
from portal.sync.settings import Direction


def test_zoho_accounts_become_xero_contacts_and_a_repeat_writes_nothing(connected, sandbox):
    engine = build_engine(db.session, connected.tenant, trigger="test")
    page = engine.zoho.list_changed("Accounts", None, None)
    assert page.records, "the demo org has accounts"
    names = {r["Account_Name"] for r in page.records}
    engine.sync_batch(Direction.ZOHO_TO_XERO, "Accounts", page.records)
    assert engine.counts()["created"] + engine.counts()["linked"] == len(page.records)

    xero = connections.xero_client(live_connections(connected.tenant).xero)
    in_xero = {c["Name"] for c in xero.all("Contacts")}
    assert names <= in_xero

    sandbox.xero.reset_stats()
    again = build_engine(db.session, connected.tenant, trigger="test")
    again.sync_batch(Direction.ZOHO_TO_XERO, "Accounts", again.zoho.list_changed("Accounts", None, None).records)
    assert again.counts()["created"] == again.counts()["updated"] == 0
    writes = {k: v for k, v in sandbox.xero.stats()["by_endpoint"].items() if not k.startswith("GET")}
    assert writes == {}


def _run(engine, direction, modules):
    cursor = engine.start(direction, modules)
    while cursor is not None:
        cursor = engine.run_chunk(cursor).cursor
    return engine.counts()


def test_a_historical_run_each_way_over_every_module_fails_nothing(connected, sandbox):
    z2x = _run(build_engine(db.session, connected.tenant, trigger="historical"), Direction.ZOHO_TO_XERO,
               ["Accounts", "Contacts", "Products", "Invoices", "Deals"])
    assert z2x["failed"] == 0, z2x
    assert z2x["created"] > 0
    x2z = _run(build_engine(db.session, connected.tenant, trigger="historical"), Direction.XERO_TO_ZOHO,
               ["Contacts", "Items", "Invoices", "Payments"])
    # The one refusal is the demo invoice with a description-only line: Zoho needs a product on every line.
    failures = db.session.query(AuditEntry).filter_by(action="failed", direction="xero_to_zoho").all()
    assert [f.error_text for f in failures] == ["A line has no item, and Zoho CRM needs a product on every line."]
    assert x2z["failed"] == 1 and x2z["created"] > 0, x2z
    # Each way again: nothing changed, so nothing is written (our own writes do not echo back as changes,
    # even where Zoho numbered an invoice itself or Xero dropped a read-only value).
    sandbox.xero.reset_stats()
    sandbox.zoho.reset_stats()
    for direction, modules in ((Direction.ZOHO_TO_XERO, ["Accounts", "Contacts", "Products", "Invoices", "Deals"]),
                               (Direction.XERO_TO_ZOHO, ["Contacts", "Items", "Invoices"])):
        repeat = _run(build_engine(db.session, connected.tenant, trigger="historical"), direction, modules)
        assert repeat["created"] == repeat["updated"] == 0, (direction, repeat)
    for side in (sandbox.xero, sandbox.zoho):
        writes = {k: v for k, v in side.stats()["by_endpoint"].items() if not k.startswith("GET")}
        assert writes == {}, writes



