"""Zoho and Xero metadata, cached per tenant with an expiry: read once, reused, read again when old or asked,
fenced to the organisation it came from, and never shared between tenants."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import MetadataCache, Side
from portal.services import connections, metadata


def _age_cache(seconds: int) -> None:
    for row in db.session.scalars(select(MetadataCache)):
        row.fetched_at -= timedelta(seconds=seconds)
    db.session.commit()


def test_without_connections_the_catalogue_is_offered_and_nothing_is_called(acme, remote):
    fields = metadata.zoho_fields(acme, "Accounts")
    assert not fields.from_zoho
    assert "Account_Name" in fields.by_name() and "VAT_Number" not in fields.by_name()
    assert fields.by_name()["id"].read_only  # the record id is always offered
    assert metadata.sales_accounts(acme) is None and metadata.sales_tax_rates(acme) is None
    assert remote.calls == {}


def test_connected_metadata_is_read_once_then_served_from_the_cache(acme, remote):
    remote.connect(acme)
    fields = metadata.zoho_fields(acme, "Accounts")
    assert fields.from_zoho
    assert fields.by_name()["VAT_Number"].custom
    assert fields.by_name()["Customer_Tier"].picklist_values == ("Gold", "Silver", "Bronze")
    assert [a["Code"] for a in metadata.sales_accounts(acme)] == ["200", "260"]  # revenue, active only
    assert [t["TaxType"] for t in metadata.sales_tax_rates(acme)] == ["OUTPUT2", "ZERORATEDOUTPUT"]
    for _ in range(3):
        metadata.zoho_fields(acme, "Accounts")
        metadata.sales_accounts(acme)
    assert remote.calls == {"zoho fields Accounts": 1, "xero Accounts": 1, "xero TaxRates": 1}
    assert db.session.scalar(select(MetadataCache.payload).where(MetadataCache.kind == "organisation")) is None
    organisation = metadata.xero(acme, "organisation").value
    assert organisation["PeriodLockDate"] == "2024-01-01"  # Xero's /Date()/ read as a date


def test_expired_metadata_is_read_again(acme, remote, app):
    remote.connect(acme)
    metadata.zoho_fields(acme, "Deals")
    ttl = app.extensions["portal.settings"].metadata_cache_ttl_seconds
    assert ttl == 6 * 3600
    _age_cache(ttl - 60)
    metadata.zoho_fields(acme, "Deals")
    assert remote.calls["zoho fields Deals"] == 1  # still fresh
    _age_cache(120)
    remote.deal_stages = ("Qualified", "Won")
    assert metadata.zoho_picklist(acme, "Deals", "Stage") == ("Qualified", "Won")
    assert remote.calls["zoho fields Deals"] == 2


def test_a_failed_read_keeps_the_last_good_copy_and_says_why(acme, remote):
    remote.connect(acme)
    metadata.zoho_fields(acme, "Accounts")
    remote.rate_limited()
    fields = metadata.get(acme, Side.ZOHO, "fields:Accounts", force=True)
    assert fields.error == "You have exceeded the rate limit"
    assert any(f["api_name"] == "VAT_Number" for f in fields.value)
    # Nothing cached yet and the remote side refuses: the catalogue, with the reason.
    deals = metadata.zoho_fields(acme, "Deals")
    assert not deals.from_zoho and deals.error == "You have exceeded the rate limit"
    assert db.session.scalar(select(MetadataCache).where(MetadataCache.kind == "fields:Deals")) is None


def test_refresh_reads_every_kind_again_and_stops_a_side_at_its_first_error(acme, remote):
    remote.connect(acme)
    metadata.zoho_fields(acme, "Accounts")
    assert metadata.refresh(acme) == []
    assert remote.calls["zoho fields Accounts"] == 2
    assert remote.calls["zoho modules"] == 1 and remote.calls["xero Organisation"] == 1
    assert metadata.zoho_module_names(acme) >= {"Accounts", "Xero_Accounts"}
    remote.calls.clear()
    remote.rate_limited()
    assert metadata.refresh(acme) == ["You have exceeded the rate limit"]
    assert remote.calls == {"zoho modules": 1, "xero Accounts": 1}  # one call per side, not one per kind


def test_metadata_of_another_organisation_is_never_shown(acme, remote):
    remote.connect(acme, zoho_org="org-A")
    assert metadata.zoho_fields(acme, "Accounts").from_zoho
    remote.custom_fields["Accounts"] = []
    remote.connect(acme, zoho_org="org-B")  # reconnected to another Zoho org
    fields = metadata.zoho_fields(acme, "Accounts")
    assert "VAT_Number" not in fields.by_name()
    assert remote.calls["zoho fields Accounts"] == 2
    connections.disconnect(acme, Side.ZOHO)
    assert not metadata.zoho_fields(acme, "Accounts").from_zoho


def test_each_tenant_has_its_own_cache(acme, globex, remote):
    remote.connect(acme)
    metadata.zoho_fields(acme, "Accounts")
    remote.custom_fields["Accounts"] = []
    remote.connect(globex)
    assert "VAT_Number" not in metadata.zoho_fields(globex, "Accounts").by_name()
    assert remote.calls["zoho fields Accounts"] == 2
    tenants = db.session.scalars(select(MetadataCache.tenant_id).where(MetadataCache.kind == "fields:Accounts"))
    assert sorted(tenants) == sorted([acme.id, globex.id])
