from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TenantOwnedMixin, utcnow
from portal.models.user import User


class SupportAccess(TenantOwnedMixin, Base):
    """One look by support staff at a tenant's data: who, when, what. The tenant's owners can read these."""

    __tablename__ = "support_access"
    __table_args__ = (Index("ix_support_access_tenant_time", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    user_email: Mapped[str] = mapped_column(String(254))  # kept when the support account is removed
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    view: Mapped[str] = mapped_column(String(100))

    user: Mapped[User | None] = relationship()
