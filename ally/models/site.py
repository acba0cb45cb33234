"""Site-wide records that are not pages: redirects and newsletter subscribers."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from .base import Base
from .base import TimestampMixin


class Redirect(TimestampMixin, Base):
    """A permanent redirect from an old path.

    A redirect to a page (``page_id``) follows the page wherever it moves later, and also
    covers the old path's descendants: ``/blog/`` renamed to ``/journal/`` sends
    ``/blog/a-post/`` to ``/journal/a-post/`` with this one row.
    """

    __tablename__ = "redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_path: Mapped[str] = mapped_column(sa.String(1024), unique=True)
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))
    target_url: Mapped[str] = mapped_column(sa.String(1024), default="")


class Subscriber(TimestampMixin, Base):
    """An e-mail address that asked for the newsletter and was shown the discount code."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    code: Mapped[str] = mapped_column(sa.String(40), default="")
