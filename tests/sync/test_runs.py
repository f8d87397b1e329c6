"""Chunked runs with a resumable cursor, previews, dry runs, pinned mapping versions, the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete

from portal.models import AuditEntry
from portal.sync.engine import Cursor, SyncEngine
from portal.sync.mapping import rule
from portal.sync.mapping_defaults import CUSTOMERS_FROM_ACCOUNTS, default_mapping
from portal.sync.mapping_store import latest_versions, load_mappings, save_mapping
from portal.sync.messages import Msg
from tests.sync.conftest import X2Z, Z2X, World


def _books(world: World, accounts: int = 7, products: int = 3, invoices: int = 5) -> None:
    created = [world.account(f"Customer {i}") for i in range(accounts)]
    items = [world.product(f"Product {i}", f"P-{i}", 10 + i) for i in range(products)]
    for i in range(invoices):
        world.invoice(created[i % accounts], [(items[i % products], 1 + i, 10 + i)], Subject=f"Invoice {i}")


def _run(engine: SyncEngine, cursor: Cursor | None) -> int:
    chunks = 0
    while cursor is not None:
        cursor = engine.run_chunk(cursor).cursor
        chunks += 1
    return chunks


def test_a_run_over_invoices_brings_customers_and_products_first(world: World) -> None:
    _books(world)
    engine = world.engine()
    cursor = engine.start(Z2X, ["Invoices"])
    assert cursor.modules == ["Accounts", "Products", "Invoices"]
    world.zoho.page_size = 2
    _run(engine, cursor)
    assert (
        len(world.xero.all("Contacts")),
        len(world.xero.all("Items")),
        len(world.xero.all("Invoices")),
    ) == (7, 3, 5)


def test_a_run_killed_mid_way_resumes_from_its_cursor_without_duplicates(world: World) -> None:
    _books(world, accounts=9)
    world.zoho.page_size = 2
    engine = world.engine()
    cursor = engine.start(Z2X, ["Accounts", "Products", "Invoices"])
    saved = json.dumps(cursor.to_json())
    # The worker dies during the third chunk, after Xero answered but before anything was saved.
    for _ in range(2):
        saved = json.dumps(engine.run_chunk(Cursor.from_json(json.loads(saved))).cursor.to_json())
    world.xero.fail_next("auth", op="create")
    with pytest.raises(Exception, match="TokenExpired"):
        engine.run_chunk(Cursor.from_json(json.loads(saved)))
    world.session.rollback()
    # Another worker picks the run up from the stored cursor.
    _run(world.engine(), Cursor.from_json(json.loads(saved)))
    assert len(world.xero.all("Contacts")) == 9
    assert len(world.xero.all("Invoices")) == 5
    assert len({c["Name"] for c in world.xero.all("Contacts")}) == 9


def test_preview_counts_what_each_module_would_sync(world: World) -> None:
    _books(world)
    assert world.engine().preview(Z2X, ["Invoices"]) == {"Accounts": 7, "Products": 3, "Invoices": 5}


def test_a_dry_run_reports_exactly_what_the_real_run_then_does_and_writes_nothing(world: World) -> None:
    _books(world)
    world.xero.add("Contacts", {"Name": "Customer 0"})  # will be linked, not created
    before = (world.xero.write_calls, world.zoho.write_calls)
    dry = world.engine(dry_run=True)
    _run(dry, dry.start(Z2X, ["Invoices"]))
    assert (world.xero.write_calls, world.zoho.write_calls) == before
    assert world.links() == [] and world.audit() == []
    real = world.engine()
    _run(real, real.start(Z2X, ["Invoices"]))
    assert dry.report == real.report
    assert dry.counts() == {"created": 14, "linked": 1}


def test_a_repeat_of_a_finished_run_makes_zero_writes_in_both_directions(world: World) -> None:
    _books(world)
    engine = world.engine()
    _run(engine, engine.start(Z2X, ["Invoices"]))
    writes = world.xero.write_calls + world.zoho.write_calls
    for direction, modules in ((Z2X, ["Invoices"]), (X2Z, ["Invoices"]), (Z2X, ["Invoices"])):
        again = world.engine()
        _run(again, again.start(direction, modules))
        assert set(again.counts()) == {"skipped"}
    assert world.xero.write_calls + world.zoho.write_calls == writes


def test_a_saved_mapping_version_never_changes_a_run_that_pinned_the_old_one(world: World) -> None:
    world.account("Zylker", Account_Number="Z-1")
    pinned = load_mappings(world.session, world.tenant_id, {CUSTOMERS_FROM_ACCOUNTS: 0})
    default = default_mapping(CUSTOMERS_FROM_ACCOUNTS)
    custom = type(default)(
        pair=default.pair,
        rules=(*tuple(r for r in default.rules if r.xero != "AccountNumber"), rule("Account_Number", "TaxNumber")),
    )
    saved = save_mapping(world.session, world.tenant_id, custom)
    world.session.commit()
    assert (saved.version, latest_versions(world.session, world.tenant_id)) == (
        1,
        {CUSTOMERS_FROM_ACCOUNTS: 1},
    )
    world.push("Accounts", mappings=pinned)
    (contact,) = world.xero.all("Contacts")
    assert contact["AccountNumber"] == "Z-1" and "TaxNumber" not in contact
    current = load_mappings(world.session, world.tenant_id)
    world.account("Globex", Account_Number="G-1")
    world.push("Accounts", mappings=current)
    globex = next(c for c in world.xero.all("Contacts") if c["Name"] == "Globex")
    assert globex["TaxNumber"] == "G-1" and "AccountNumber" not in globex


def test_every_attempt_leaves_one_audit_row_with_a_translatable_message(world: World) -> None:
    world.account("Zylker")
    world.push("Accounts")
    world.push("Accounts")
    created, skipped = world.audit()
    assert (created.action, created.zoho_id, created.xero_id, created.direction) == (
        "created",
        world.links()[0].zoho_id,
        world.links()[0].xero_id,
        "zoho_to_xero",
    )
    message = Msg.from_json(skipped.message)
    assert message is not None and message.render() == "No change since the last sync."
    translated = message.render(lambda msgid, **params: {"No change since the last sync.": "Rien de neuf."}[msgid])
    assert translated == "Rien de neuf."
    assert world.rollups() == {
        ("zoho_to_xero", "Accounts", "created"): 1,
        ("zoho_to_xero", "Accounts", "skipped"): 1,
    }


def test_audit_rows_are_append_only(world: World) -> None:
    world.account("Zylker")
    world.push("Accounts")
    (row,) = world.audit()
    row.action = "deleted"
    with pytest.raises(RuntimeError, match="append-only"):
        world.session.flush()
    world.session.rollback()
    world.session.execute(delete(AuditEntry))  # bulk SQL is the operator's business (retention), not the ORM's
