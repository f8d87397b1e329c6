from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin


class Side(enum.StrEnum):
    ZOHO = "zoho"
    XERO = "xero"


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    CHOOSING = "choosing"  # Xero consent gave several organisations: waiting for the user to pick one
    NEEDS_RECONNECT = "needs_reconnect"  # the grant is gone (revoked, expired, org disconnected from Xero's side)
    DISCONNECTED = "disconnected"


class Connection(TenantOwnedMixin, TimestampMixin, Base):
    """A tenant's OAuth connection to one side. Tokens are stored encrypted (portal.services.crypto)."""

    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("tenant_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    side: Mapped[Side] = mapped_column(String(8))
    status: Mapped[ConnectionStatus] = mapped_column(String(20), default=ConnectionStatus.DISCONNECTED.value)
    # Bumped whenever the connection points at a (possibly) different organisation: work queued under an older
    # generation is fenced off and never written to the new organisation.
    generation: Mapped[int] = mapped_column(default=0)

    # Xero: the tenantId (organisation) and the /connections id; Zoho: the CRM org id.
    remote_org_id: Mapped[str | None] = mapped_column(String(64))
    remote_org_name: Mapped[str | None] = mapped_column(String(255))
    xero_connection_id: Mapped[str | None] = mapped_column(String(64))
    # Zoho is multi-DC: refreshes go to the accounts server the consent named, API calls to its api_domain.
    zoho_location: Mapped[str | None] = mapped_column(String(16))
    zoho_accounts_server: Mapped[str | None] = mapped_column(String(255))
    zoho_api_domain: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(Text, default="")

    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]

    connected_at: Mapped[datetime | None]
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    # Xero's daily call limit for this organisation (5,000; 1,000 on the Starter tier).
    daily_call_limit: Mapped[int] = mapped_column(default=5000)
    # While CHOOSING: the organisations the consent connected, as Xero's /connections listed them.
    pending_organisations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    @property
    def is_connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED.value

    def __repr__(self) -> str:
        return f"<Connection tenant={self.tenant_id} {self.side} {self.status}>"
