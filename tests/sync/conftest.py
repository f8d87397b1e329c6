"""Engine unit tests: in-memory fakes of both ports and a private in-memory SQLite database (no Flask app)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from portal.models import AuditEntry, Base, RecordLink, ReviewItem, SyncDailyCount, Tenant
from portal.sync.engine import SyncEngine
from portal.sync.settings import Direction, SyncSettings
from portal.sync.testing import FakeClock, FakeXero, FakeZoho, RecordingSink

Z2X = Direction.ZOHO_TO_XERO
X2Z = Direction.XERO_TO_ZOHO


def make_session() -> Session:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    return Session(engine, expire_on_commit=False)


class World:
    """One tenant with both sides faked, and helpers that read like the sentences of the tests."""

    def __init__(self, session: Session, settings: SyncSettings | None = None) -> None:
        self.session = session
        tenant = Tenant(slug="acme", name="Acme")
        session.add(tenant)
        session.commit()
        self.tenant_id = tenant.id
        self.clock = FakeClock()
        self.zoho = FakeZoho(self.clock)
        self.xero = FakeXero(self.clock)
        self.sink = RecordingSink()
        self.sleeps: list[float] = []
        self.settings = settings or SyncSettings.everything_on(conflict_policy="zoho_wins")

    def engine(self, **options: Any) -> SyncEngine:
        options.setdefault("settings", self.settings)
        return SyncEngine(
            self.session,
            self.zoho,
            self.xero,
            tenant_id=self.tenant_id,
            clock=self.clock,
            sleep=self.sleeps.append,
            sink=self.sink,
            **options,
        )

    def push(self, module: str, ids: list[str] | None = None, **options: Any) -> SyncEngine:
        engine = self.engine(**options)
        engine.sync_records(Z2X, module, ids if ids is not None else [r["id"] for r in self.zoho.all(module)])
        return engine

    def pull(self, module: str, ids: list[str] | None = None, **options: Any) -> SyncEngine:
        from portal.sync.ports import XERO_ID_FIELD

        engine = self.engine(**options)
        key = XERO_ID_FIELD[module]
        engine.sync_records(X2Z, module, ids if ids is not None else [r[key] for r in self.xero.all(module)])
        return engine

    def links(self, entity: str | None = None) -> list[RecordLink]:
        query = select(RecordLink).where(RecordLink.tenant_id == self.tenant_id)
        if entity:
            query = query.where(RecordLink.entity == entity)
        return list(self.session.scalars(query))

    def audit(self, **filters: Any) -> list[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.tenant_id == self.tenant_id).order_by(AuditEntry.id)
        for name, value in filters.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(self.session.scalars(query))

    def reviews(self, status: str = "open") -> list[ReviewItem]:
        return list(self.session.scalars(select(ReviewItem).where(ReviewItem.status == status)))

    def rollups(self) -> dict[tuple[str, str, str], int]:
        rows = self.session.scalars(select(SyncDailyCount).where(SyncDailyCount.tenant_id == self.tenant_id))
        return {(r.direction, r.module, r.outcome): r.count for r in rows}

    def account(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.zoho.add("Accounts", {"Account_Name": name, **fields})

    def product(self, name: str, code: str, price: float = 10, **fields: Any) -> dict[str, Any]:
        return self.zoho.add("Products", {"Product_Name": name, "Product_Code": code, "Unit_Price": price, **fields})

    def invoice(
        self, account: dict[str, Any], lines: list[tuple[dict[str, Any], float, float]], **fields: Any
    ) -> dict[str, Any]:
        items = [
            {
                "Product_Name": {"id": product["id"]},
                "Quantity": quantity,
                "List_Price": price,
                "Line_Tax": [{"name": "VAT", "percentage": 20}],
            }
            for product, quantity, price in lines
        ]
        return self.zoho.add(
            "Invoices",
            {
                "Subject": fields.pop("Subject", "Invoice"),
                "Account_Name": {"id": account["id"]},
                "Invoice_Date": "2026-03-01",
                "Invoiced_Items": items,
                **fields,
            },
        )


@pytest.fixture
def session() -> Iterator[Session]:
    session = make_session()
    yield session
    session.close()


@pytest.fixture
def world(session: Session) -> World:
    return World(session)
