"""What the portal caches about a tenant's two remote systems: Zoho modules and fields (custom fields and
picklists included), Xero accounts, tax rates, currencies and organisation settings.

Kept in the database rather than Redis: the payloads are small (a few kilobytes per kind), every page that reads
them also reads tenant rows from the same database, the rows go away with their tenant (``ON DELETE CASCADE``),
and our Redis runs without persistence (bin/_common.sh), so a Redis restart would turn every settings page into a
burst of remote calls against the tenant's rate budget (Xero: 60 calls a minute, FACTS.md §2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TenantOwnedMixin
from portal.models.sync import JSONType


class MetadataCache(TenantOwnedMixin, Base):
    """One kind of metadata of one side (``zoho``/``fields:Accounts``, ``xero``/``tax_rates``...), as last read.

    ``remote_org_id`` is the Zoho org or Xero organisation it was read from: after a connection reset to
    another organisation, the row no longer matches and is never shown."""

    __tablename__ = "metadata_cache"
    __table_args__ = (UniqueConstraint("tenant_id", "side", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    side: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(64))
    remote_org_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(JSONType)
    fetched_at: Mapped[datetime]
