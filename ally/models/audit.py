"""The audit log: who did what in the admin, and when."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from .base import Base
from .base import TimestampMixin


class AuditEntry(TimestampMixin, Base):
    """One admin action. The actor's e-mail is copied so the trail survives user deletion."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40), default="")
    object_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
