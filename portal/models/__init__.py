"""Typed SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin, utcnow
from portal.models.sync import (
    AuditEntry,
    MappingVersion,
    RecordLink,
    ReviewItem,
    SyncConfig,
    SyncDailyCount,
)
from portal.models.tenant import Tenant
from portal.models.user import Invitation, Role, User

__all__ = [
    "AuditEntry",
    "Base",
    "Invitation",
    "MappingVersion",
    "RecordLink",
    "ReviewItem",
    "Role",
    "SyncConfig",
    "SyncDailyCount",
    "Tenant",
    "TenantOwnedMixin",
    "TimestampMixin",
    "User",
    "utcnow",
]
