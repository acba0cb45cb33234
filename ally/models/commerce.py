"""What the shop sells: products promoted in posts and added to the cart."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from .base import Base
from .base import TimestampMixin
from .media import Image


class Product(TimestampMixin, Base):
    """A product; ``price_cents`` is integer cents, never a float."""

    __tablename__ = "products"
    __table_args__ = (sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    price_cents: Mapped[int]
    image_id: Mapped[int | None] = mapped_column(sa.ForeignKey("images.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)

    image: Mapped[Image | None] = relationship()

    def __repr__(self) -> str:
        return f"<Product {self.slug} {self.price_cents}c>"

    def api_json(self, currency: str, url: str | None) -> dict:
        """The product as the API inlines it everywhere: price in integer cents."""
        return {
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "price": self.price_cents,
            "currency": currency,
            "url": url,
        }
