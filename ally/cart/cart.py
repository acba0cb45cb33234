"""The cart, as pure domain logic: no Flask, no database, integer cents everywhere.

A cart's *state* is what the session cookie holds — product ids, quantities and discount
codes, never a price. :func:`price_cart` turns state plus the current catalogue into a
:class:`PricedCart`, so prices always come from the shop's data at the moment of reading.

Money: integer cents. Percentages: ``Decimal`` with half-up rounding. A cart-level
discount is allocated across lines by largest remainder, so line discounts add up to
exactly the cart's discount.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

MAX_QUANTITY = 99
MAX_LINES = 20
MAX_CODES = 5
MAX_CODE_LENGTH = 40
MAX_ID = 2**31 - 1


class CartError(ValueError):
    """A request the cart refuses; ``description`` is shown to the shopper as is."""

    def __init__(self, description: str, status: int = 422):
        super().__init__(description)
        self.description = description
        self.status = status


@dataclass(frozen=True)
class CatalogItem:
    """What the cart needs to know of a product, read from the database on every request."""

    id: int
    title: str
    handle: str
    price: int
    url: str | None = None
    image: str | None = None
    available: bool = True


@dataclass
class PricedLine:
    item: CatalogItem
    quantity: int
    discount: int = 0

    @property
    def key(self) -> str:
        return line_key(self.item.id)

    @property
    def line_price(self) -> int:
        return self.item.price * self.quantity

    @property
    def final_line_price(self) -> int:
        return self.line_price - self.discount


@dataclass
class PricedCart:
    lines: list[PricedLine]
    codes: list[tuple[str, bool]]
    discount: int
    free_shipping_threshold: int
    currency: str
    percent_off: Decimal = Decimal(0)
    notices: list[str] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal(self) -> int:
        return sum(line.line_price for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount

    @property
    def free_shipping(self) -> bool:
        """Free shipping from the threshold up, on the discounted total (like Oscar's ``>=``)."""
        return bool(self.lines) and self.total >= self.free_shipping_threshold

    @property
    def free_shipping_remaining(self) -> int:
        return max(0, self.free_shipping_threshold - self.total)

    @property
    def free_shipping_progress(self) -> int:
        """How far towards free shipping, in whole percent (0–100), for the progress bar."""
        if not self.free_shipping_threshold:
            return 100
        return min(100, self.total * 100 // self.free_shipping_threshold)


# -- validation of shopper input -------------------------------------------------------------


def validate_quantity(value: Any) -> int:
    """An integer 0..99 — not a string, float, bool or null, whatever JSON allows."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CartError("Quantity must be a whole number from 0 to 99.")
    if not 0 <= value <= MAX_QUANTITY:
        raise CartError(f"Quantity must be a whole number from 0 to {MAX_QUANTITY}.")
    return value


def validate_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise CartError("The product id must be a positive whole number.")
    return value


def line_key(product_id: int) -> str:
    """A Shopify-style line key, ``"<id>:<token>"``; opaque to clients, stable per product."""
    return f"{product_id}:{product_id * 2654435761 % 2**32:08x}"


# -- state ---------------------------------------------------------------------------------


class Cart:
    """Lines and codes as kept in the session; every mutation keeps the invariants."""

    def __init__(self, state: Any = None):
        self.lines: dict[int, int] = {}
        self.codes: list[str] = []
        if isinstance(state, dict):
            self._load(state)

    def _load(self, state: dict) -> None:
        # A cookie from an older version or a bug is dropped piece by piece, never trusted.
        for entry in (
            state.get("lines", [])[:MAX_LINES] if isinstance(state.get("lines"), list) else []
        ):
            try:
                product_id, quantity = entry
                self.lines[validate_id(product_id)] = validate_quantity(quantity)
            except (TypeError, ValueError):
                continue
        self.lines = {pid: qty for pid, qty in self.lines.items() if qty}
        codes = state.get("codes", [])
        if isinstance(codes, list):
            self.codes = [c for c in codes if isinstance(c, str) and c][:MAX_CODES]

    def to_state(self) -> dict[str, Any]:
        return {"lines": [[pid, qty] for pid, qty in self.lines.items()], "codes": self.codes}

    def add(self, product_id: int, quantity: int, title: str = "this product") -> int:
        """Add to a product's line; returns the line's new quantity."""
        new = self.lines.get(product_id, 0) + quantity
        if new > MAX_QUANTITY:
            raise CartError(f"You can't add more {title} to the cart (at most {MAX_QUANTITY}).")
        self.set(product_id, new)
        return new

    def set(self, product_id: int, quantity: int) -> None:
        if quantity == 0:
            self.lines.pop(product_id, None)
            return
        if product_id not in self.lines and len(self.lines) >= MAX_LINES:
            raise CartError(f"The cart holds at most {MAX_LINES} different products.")
        self.lines[product_id] = quantity

    def product_at(self, line: int) -> int:
        """The product on a 1-based ``line`` (Shopify's numbering)."""
        if isinstance(line, bool) or not isinstance(line, int) or not 1 <= line <= len(self.lines):
            raise CartError(f"There is no line {line!r} in the cart.")
        return list(self.lines)[line - 1]

    def product_for(self, ref: Any) -> int:
        """The product a line reference names: a product id or a line key."""
        if isinstance(ref, str):
            for product_id in self.lines:
                if line_key(product_id) == ref:
                    return product_id
            raise CartError(f"There is no line {ref!r} in the cart.")
        product_id = validate_id(ref)
        if product_id not in self.lines:
            raise CartError(f"Product {product_id} is not in the cart.")
        return product_id

    def set_codes(self, raw: Any) -> None:
        """Replace the discount codes with a comma-separated string (Shopify's ``discount``)."""
        if not isinstance(raw, str):
            raise CartError("The discount must be a string of codes separated by commas.")
        codes = [c.strip().upper() for c in raw.split(",") if c.strip()]
        if len(codes) > MAX_CODES or any(len(c) > MAX_CODE_LENGTH for c in codes):
            raise CartError("That discount code is too long.")
        self.codes = list(dict.fromkeys(codes))

    def clear(self) -> None:
        self.lines.clear()


# -- pricing -------------------------------------------------------------------------------


def percent_of(amount: int, percent: Decimal) -> int:
    """``percent`` of ``amount`` cents, rounded half-up to a whole cent."""
    return int((Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` cents in proportion to ``weights`` so the parts sum to ``total``.

    Largest remainder: everyone gets the floor of their share, then the cents left over go
    to the largest fractional parts (earlier lines first on ties).
    """
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    floors = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(floors)]:
        floors[i] += 1
    return floors


def price_cart(
    cart: Cart,
    catalog: Mapping[int, CatalogItem],
    discounts: Mapping[str, Decimal],
    *,
    free_shipping_threshold: int,
    currency: str,
) -> PricedCart:
    """Price ``cart`` against ``catalog``; drop lines whose product is gone or unavailable.

    Dropped lines are removed from ``cart`` too, with a notice the shopper can read.
    """
    lines, notices = [], []
    for product_id, quantity in list(cart.lines.items()):
        item = catalog.get(product_id)
        if item is None or not item.available:
            cart.set(product_id, 0)
            name = item.title if item else "A product"
            notices.append(f"{name} is no longer available and was removed from your cart.")
            continue
        lines.append(PricedLine(item, quantity))
    percent = max((discounts.get(code, Decimal(0)) for code in cart.codes), default=Decimal(0))
    priced = PricedCart(
        lines=lines,
        codes=[(code, code in discounts) for code in cart.codes],
        discount=0,
        free_shipping_threshold=free_shipping_threshold,
        currency=currency,
        percent_off=percent,
        notices=notices,
    )
    priced.discount = percent_of(priced.subtotal, percent)
    shares = allocate(priced.discount, [ln.line_price for ln in lines])
    for line, share in zip(lines, shares, strict=True):
        line.discount = share
    return priced


def item_json(line: PricedLine, code_title: str | None) -> dict[str, Any]:
    """A line in the Shopify Ajax Cart shape (the fields that apply to this shop)."""
    item = line.item
    return {
        "key": line.key,
        "id": item.id,
        "variant_id": item.id,
        "product_id": item.id,
        "title": item.title,
        "product_title": item.title,
        "handle": item.handle,
        "quantity": line.quantity,
        "price": item.price,
        "original_price": item.price,
        "final_price": item.price,
        "line_price": line.line_price,
        "original_line_price": line.line_price,
        "final_line_price": line.final_line_price,
        "total_discount": line.discount,
        "discounts": [{"amount": line.discount, "title": code_title}] if line.discount else [],
        "url": item.url,
        "image": item.image,
        "requires_shipping": True,
    }


def cart_json(priced: PricedCart) -> dict[str, Any]:
    """The whole cart in the Shopify Ajax Cart shape, plus free-shipping fields."""
    applied = next((code for code, ok in priced.codes if ok), None)
    return {
        "item_count": priced.item_count,
        "items": [item_json(line, applied) for line in priced.lines],
        "items_subtotal_price": priced.subtotal,
        "original_total_price": priced.subtotal,
        "total_discount": priced.discount,
        "total_price": priced.total,
        "currency": priced.currency,
        "requires_shipping": bool(priced.lines),
        "discount_codes": [{"code": code, "applicable": ok} for code, ok in priced.codes],
        "cart_level_discount_applications": [
            {
                "type": "discount_code",
                "title": applied,
                "value": str(priced.percent_off),
                "value_type": "percentage",
                "allocation_method": "across",
                "total_allocated_amount": priced.discount,
            }
        ]
        if applied and priced.discount
        else [],
        "free_shipping_threshold": priced.free_shipping_threshold,
        "free_shipping_remaining": priced.free_shipping_remaining,
        "free_shipping": priced.free_shipping,
        "notices": priced.notices,
    }
