"""What the sync triggers keep: inbound events stored before they are answered, the tenant's hook credentials,
its Zoho notification channels and the scheduled pull's watermarks.

An :class:`InboundEvent` is written in the request that received it, before the answer: a Redis outage or a busy
worker delays it, never loses it (a periodic job enqueues stored events again). Each event records the
connection generations it arrived under, so work for an organisation that was reset away is fenced off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin, utcnow
from portal.models.sync import ID, BigId, JSONType


class InboundEvent(TenantOwnedMixin, Base):
    """One thing that asks for a sync: a Zoho notification or workflow call, a Send to Xero, a Xero webhook
    event. ``source`` is the side whose records changed (``zoho`` or ``xero``), ``kind`` how it reached us."""

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_inbound_event_pending", "tenant_id", "source", "processed_at", "next_attempt_at"),
        Index("ix_inbound_event_unprocessed", "processed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # zoho | xero
    kind: Mapped[str] = mapped_column(String(16))  # notification | workflow | send_button | send_portal | webhook
    module: Mapped[str] = mapped_column(String(32))  # in the source side's own names
    operation: Mapped[str] = mapped_column(String(8), default="upsert")  # upsert | delete
    record_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Delivered twice (a webhook retry, a duplicate notification) -> the same key, kept once.
    dedupe_key: Mapped[str] = mapped_column(String(128))
    zoho_generation: Mapped[int] = mapped_column(default=0)
    xero_generation: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What became of it: {"status": synced|skipped|failed|ignored, ...}; a Send to Xero page shows it.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    @property
    def is_done(self) -> bool:
        return self.processed_at is not None


class HookCredential(TenantOwnedMixin, TimestampMixin, Base):
    """A tenant's hook token (in its hook URLs, looked up by hash) and the secret every other hook credential is
    derived from (channel token, workflow secret, Send to Xero key). Both are stored encrypted."""

    __tablename__ = "hook_credential"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str] = mapped_column(Text)


class ZohoChannel(TenantOwnedMixin, TimestampMixin, Base):
    """One Zoho notification channel (``actions/watch``) for one module of the tenant's Zoho org."""

    __tablename__ = "zoho_channel"
    __table_args__ = (UniqueConstraint("tenant_id", "zoho_org_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zoho_org_id: Mapped[str] = mapped_column(ID)
    module: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(20), unique=True)  # Zoho: a long, chosen by us
    # pending (being subscribed) | active | failed (Zoho refused; retried by the maintenance job) |
    # unavailable (the org has no such module, e.g. Xero_Accounts not installed; checked again each run)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]
    recreated_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class PullWatermark(TenantOwnedMixin, TimestampMixin, Base):
    """How far the scheduled pull has read one module of one remote organisation: the newest change it synced.
    Keyed by the organisation too, so a reset to another organisation starts clean."""

    __tablename__ = "pull_watermark"
    __table_args__ = (UniqueConstraint("tenant_id", "side", "remote_org_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    side: Mapped[str] = mapped_column(String(8))
    remote_org_id: Mapped[str] = mapped_column(ID)
    module: Mapped[str] = mapped_column(String(32))
    watermark: Mapped[datetime]
    # Records read at the end of the last pull ({id: version}): the overlap reads them again, and these are
    # dropped unless their version changed, so that each change is synced (and audited) once.
    boundary: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
