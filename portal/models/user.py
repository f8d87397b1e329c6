from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models.base import Base, TimestampMixin, utcnow
from portal.models.tenant import Tenant


class Role(enum.StrEnum):
    OWNER = "owner"  # an admin who also manages users and may reset the Xero connection
    ADMIN = "admin"  # manages one tenant's settings, mappings, syncs and audit
    SUPPORT = "support"  # our staff: reads every tenant, writes nothing, belongs to none

    @property
    def manages_tenant(self) -> bool:
        return self in (Role.OWNER, Role.ADMIN)


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "(role = 'support' AND tenant_id IS NULL) OR (role <> 'support' AND tenant_id IS NOT NULL)",
            name="support_has_no_tenant",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)
    email_notifications: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the session id: bumping it signs the user out everywhere (e.g. after a password change).
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")

    # Flask-Login's user protocol, without importing Flask into the model layer.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = utcnow()
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_support(self) -> bool:
        return self.role_enum is Role.SUPPORT

    @property
    def is_owner(self) -> bool:
        return self.role_enum is Role.OWNER

    @property
    def can_manage_tenant(self) -> bool:
        return self.role_enum.manages_tenant

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Invitation(TimestampMixin, Base):
    """An owner's emailed invitation to join a tenant with a role; only a hash of the link's token is kept."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    tenant: Mapped[Tenant] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now
