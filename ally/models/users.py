"""People who log in to the admin."""

import enum

import sqlalchemy as sa
from flask import current_app
from flask import has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from .base import Base
from .base import TimestampMixin


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    AUTHOR = "author"


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.AUTHOR.value)
    is_active: Mapped[bool] = mapped_column(default=True)

    def set_password(self, password: str) -> None:
        """Store a salted hash; ``ALLY_PASSWORD_HASH`` picks the method (scrypt by default)."""
        method = current_app.config["ALLY_PASSWORD_HASH"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @classmethod
    def load(cls, user_id: str) -> "User | None":
        """Flask-Login's user loader: inactive users are logged out on their next request."""
        from ally.extensions import db

        user = db.session.get(cls, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.is_active else None
