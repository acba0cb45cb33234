"""Uploaded images, referenced by image blocks, post feed images and products."""

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from .base import Base
from .base import TimestampMixin


class ImageRef(NamedTuple):
    """An image as a post card shows it: a rendition URL needs only the id."""

    id: int


class Image(TimestampMixin, Base):
    """An image file under ``ALLY_MEDIA_DIR``; renditions are derived from it on demand."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    filename: Mapped[str] = mapped_column(sa.String(255), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    file_size: Mapped[int] = mapped_column(default=0)
    alt: Mapped[str] = mapped_column(sa.String(255), default="")
