"""What the sync engine keeps: per-tenant configuration, versioned mappings, record links, the append-only
audit
log with its daily rollups, and the review queue.

Every row is tenant-owned. Links, review items and audit rows also carry the Zoho org and Xero organisation
they
belong to: after a connection reset the engine only sees rows of the current pair, so nothing learnt about
the old
organisation is ever applied to the new one (ARCHITECTURE.md, issue 6 "Reset connection").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin, utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key for millions of audit rows.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ID = String(64)  # Zoho ids have up to 19 digits, Xero ids are UUIDs


class SyncConfig(TenantOwnedMixin, TimestampMixin, Base):
    """The two settings tabs of a tenant (issue 7), as a :class:`portal.sync.settings.SyncSettings` JSON."""

    __tablename__ = "sync_config"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    revision: Mapped[int] = mapped_column(default=1)  # bumped on every save; a run records the one it used
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class MappingVersion(TenantOwnedMixin, Base):
    """One saved version of one module pair's mapping. Rows are never updated: saving makes a new version, so
    a
    run that pinned an older one keeps reading exactly what it started with."""

    __tablename__ = "mapping_version"
    __table_args__ = (UniqueConstraint("tenant_id", "pair", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")


class RecordLink(TenantOwnedMixin, TimestampMixin, Base):
    """A Zoho record and its Xero counterpart, with what each side looked like at the last sync.

    ``zoho_hash``/``xero_hash`` hash the mapped fields of each side; ``base`` holds their values per rule for
    three-way merges. ``state`` is ``linked``, ``creating`` (a create was sent and its answer not yet saved: a
    retry reuses the same idempotency key) or ``removed`` (deleted/archived/voided by a sync: never
    recreated).
    """

    __tablename__ = "record_link"
    __table_args__ = (
        UniqueConstraint("tenant_id", "zoho_org_id", "xero_tenant_id", "entity", "zoho_id"),
        UniqueConstraint("tenant_id", "zoho_org_id", "xero_tenant_id", "entity", "xero_id"),
        Index("ix_record_link_code", "tenant_id", "xero_tenant_id", "entity", "xero_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    zoho_org_id: Mapped[str] = mapped_column(ID)
    xero_tenant_id: Mapped[str] = mapped_column(ID)
    zoho_id: Mapped[str | None] = mapped_column(ID)
    xero_id: Mapped[str | None] = mapped_column(ID)
    xero_code: Mapped[str | None] = mapped_column(String(255))  # Xero's human key: item Code, invoice number
    record_name: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="linked")
    zoho_hash: Mapped[str | None] = mapped_column(String(32))
    xero_hash: Mapped[str | None] = mapped_column(String(32))
    base: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    zoho_version: Mapped[str | None] = mapped_column(String(40))  # Modified_Time at the last sync
    xero_version: Mapped[str | None] = mapped_column(String(40))  # UpdatedDateUTC at the last sync
    pending_key: Mapped[str | None] = mapped_column(String(128))  # idempotency key of an unconfirmed create
    mapping_version: Mapped[int] = mapped_column(default=0)
    last_synced_at: Mapped[datetime | None]


class AuditEntry(TenantOwnedMixin, Base):
    """One attempt at one record: append-only, written only by :func:`portal.sync.audit.AuditLog.record`."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_tenant_id_id", "tenant_id", "id"),
        Index("ix_audit_entry_zoho", "tenant_id", "zoho_id"),
        Index("ix_audit_entry_xero", "tenant_id", "xero_id"),
        Index("ix_audit_entry_run", "tenant_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    run_id: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(16))
    module: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32), default="")
    record_name: Mapped[str] = mapped_column(String(255), default="")
    zoho_id: Mapped[str | None] = mapped_column(ID)
    xero_id: Mapped[str | None] = mapped_column(ID)
    action: Mapped[str] = mapped_column(
        String(16)
    )  # created updated linked deleted archived voided skipped failed
    reason: Mapped[str | None] = mapped_column(String(40))  # skip reason or error kind, for filters
    message: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # a portal.sync.messages.Msg as JSON
    error_text: Mapped[str | None] = mapped_column(Text)  # the remote system's own words
    attempt: Mapped[int] = mapped_column(default=1)
    final: Mapped[bool] = mapped_column(default=True)  # False on an attempt that will be retried
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)  # [{field, old, new, side}]
    zoho_org_id: Mapped[str | None] = mapped_column(ID)
    xero_tenant_id: Mapped[str | None] = mapped_column(ID)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise RuntimeError("audit entries are append-only")


class SyncDailyCount(Base):
    """Outcomes per tenant, day, direction, module: dashboards read these, never the audit log."""

    __tablename__ = "sync_daily_count"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    direction: Mapped[str] = mapped_column(String(16), primary_key=True)
    module: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class ReviewItem(TenantOwnedMixin, TimestampMixin, Base):
    """A record the engine would not decide alone: an ambiguous match (``kind="match"``, ``candidates`` holds
    the plausible counterparts) or a conflict under the "ask me" policy (``kind="conflict"``, ``fields`` holds
    per rule the base, Zoho and Xero values). An admin resolves it per field; the engine then applies it."""

    __tablename__ = "review_item"
    __table_args__ = (Index("ix_review_item_open", "tenant_id", "status", "entity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16))
    zoho_module: Mapped[str] = mapped_column(String(32))
    xero_module: Mapped[str] = mapped_column(String(32))
    zoho_id: Mapped[str | None] = mapped_column(ID)
    xero_id: Mapped[str | None] = mapped_column(ID)
    record_name: Mapped[str] = mapped_column(String(255), default="")
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open resolved dismissed applied
    resolution: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    zoho_org_id: Mapped[str] = mapped_column(ID)
    xero_tenant_id: Mapped[str] = mapped_column(ID)
