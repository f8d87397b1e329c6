"""Typed SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from portal.models.base import Base, TenantOwnedMixin, TimestampMixin, utcnow
from portal.models.connection import Connection, ConnectionStatus, Side
from portal.models.support import SupportAccess
from portal.models.tenant import Tenant
from portal.models.user import Invitation, Role, User

__all__ = [
    "Base",
    "Connection",
    "ConnectionStatus",
    "Invitation",
    "Role",
    "Side",
    "SupportAccess",
    "Tenant",
    "TenantOwnedMixin",
    "TimestampMixin",
    "User",
    "utcnow",
]
