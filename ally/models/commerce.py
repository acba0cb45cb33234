"""What the shop sells: products promoted in posts and added to the cart."""

from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm.attributes import set_committed_value

from .base import Base
from .base import TimestampMixin
from .base import UTCDateTime
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

    @classmethod
    def json_columns(cls) -> list:
        """``json_object`` arguments for a whole product row: name, column, name, column…"""
        return [item for column in cls.__table__.columns for item in (column.key, column)]

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


def adopt_products(session: Session, rows: list[dict]) -> list[Product]:
    """Products read as JSON with another row (``Page.products_json``) join ``session``
    as if a query had loaded them, so ``session.get`` and chooser blocks find them.

    Every column is set, so nothing loads again; a product the session already holds
    fresh is left as it is. Not loaded by a query, they declare their cache tags here.
    The session holds its rows weakly: the caller keeps the returned products.
    """
    from ally.cache import depends_on

    adopted = []
    for row in rows:
        values = {key: _from_json(key, value) for key, value in row.items()}
        product = session.identity_map.get(session.identity_key(Product, row["id"]))
        if product is None:
            product = Product(**values)
            make_transient_to_detached(product)
            session.add(product)
        elif expired := sa.inspect(product).expired_attributes:
            # Expired (a session that outlived a commit): refreshed from the row as a
            # query would, without marking anything changed.
            for key in expired & values.keys():
                set_committed_value(product, key, values[key])
        adopted.append(product)
        depends_on(f"products:{product.id}")
    return adopted


def _from_json(key: str, value):
    """A column's value back from SQL's JSON: booleans from SQLite's 0/1, aware datetimes."""
    column = Product.__table__.columns[key]
    if value is None:
        return None
    if isinstance(column.type, sa.Boolean):
        return bool(value)
    if isinstance(column.type, UTCDateTime):
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return value
