"""The mapping editor's work in progress: the rules of one module pair as edited since the last saved version.

Each edit (add, remove, reorder, direction, options) changes the draft on the server, so the page is never the
source of truth; "Save mapping" turns the draft into the pair's next :class:`~portal.models.sync.MappingVersion`
and removes it. One draft per tenant and pair, shared by the tenant's admins, like the saved versions are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin
from portal.models.sync import JSONType


class MappingDraft(TenantOwnedMixin, TimestampMixin, Base):
    __tablename__ = "mapping_draft"
    __table_args__ = (UniqueConstraint("tenant_id", "pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair: Mapped[str] = mapped_column(String(64))
    base_version: Mapped[int]  # the saved version the draft started from (0: the built-in default)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType)  # PairMapping.to_json()
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
