"""Typed SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin, utcnow
from portal.models.connection import Connection, ConnectionStatus, Side
from portal.models.mapping_draft import MappingDraft
from portal.models.metadata import MetadataCache
from portal.models.support import SupportAccess
from portal.models.sync import (
    AuditEntry,
    MappingVersion,
    RecordLink,
    ReviewItem,
    SyncConfig,
    SyncDailyCount,
)
from portal.models.tenant import Tenant
from portal.models.triggers import HookCredential, InboundEvent, PullWatermark, ZohoChannel
from portal.models.user import Invitation, Role, User

__all__ = [
    "AuditEntry",
    "Base",
    "Connection",
    "ConnectionStatus",
    "HookCredential",
    "InboundEvent",
    "Invitation",
    "MappingDraft",
    "MappingVersion",
    "MetadataCache",
    "PullWatermark",
    "RecordLink",
    "ReviewItem",
    "Role",
    "Side",
    "SupportAccess",
    "SyncConfig",
    "SyncDailyCount",
    "Tenant",
    "TenantOwnedMixin",
    "TimestampMixin",
    "User",
    "ZohoChannel",
    "utcnow",
]
