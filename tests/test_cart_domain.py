"""The cart domain, with no Flask and no database: rounding, allocation, shipping, caps."""

from decimal import Decimal

import pytest

from ally.cart.cart import MAX_LINES
from ally.cart.cart import Cart
from ally.cart.cart import CartError
from ally.cart.cart import CatalogItem
from ally.cart.cart import allocate
from ally.cart.cart import cart_json
from ally.cart.cart import line_key
from ally.cart.cart import percent_of
from ally.cart.cart import price_cart
from ally.cart.cart import validate_quantity

CATALOG = {
    1: CatalogItem(1, "Melatonin", "melatonin", 2499, "/products/melatonin/"),
    2: CatalogItem(2, "Probiotic", "probiotic", 2999, "/products/probiotic/"),
    3: CatalogItem(3, "Gone", "gone", 1000, None, None, available=False),
}
CODES = {"ALLY15": Decimal(15)}


def priced(lines: dict[int, int], codes=(), threshold=5000, catalog=CATALOG):
    cart = Cart({"lines": [[k, v] for k, v in lines.items()], "codes": list(codes)})
    return cart, price_cart(cart, catalog, CODES, free_shipping_threshold=threshold, currency="USD")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(4998, 750), (100, 15), (10, 2), (3, 0), (4, 1), (2499, 375), (1, 0), (0, 0), (70, 11)],
)
def test_percent_rounds_half_up(amount, expected):
    # 4998 * 15% = 749.7 → 750; 10 * 15% = 1.5 → 2; 70 * 15% = 10.5 → 11; 3 * 15% = 0.45 → 0
    assert percent_of(amount, Decimal(15)) == expected


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        (750, [2499, 2499]),
        (1, [1, 1, 1]),
        (100, [1, 1, 1]),
        (449, [2499, 2999]),
        (0, [5, 5]),
        (7, [0, 0]),
        (1234, [1, 999, 1000, 7]),
    ],
)
def test_allocation_sums_exactly(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == (total if any(weights) else 0)
    assert all(p >= 0 for p in parts)


def test_allocation_is_proportional_with_remainder_to_largest_fraction():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [1, 3]) == [3, 7]  # 2.5 → 3, 7.5 → 7 (tie goes to the earlier line)


def test_code_takes_15_percent_allocated_across_lines():
    _, cart = priced({1: 1, 2: 1}, codes=["ALLY15"])
    assert cart.subtotal == 5498
    assert cart.discount == 825  # 824.7 → 825
    assert [line.discount for line in cart.lines] == [375, 450]
    assert sum(line.final_line_price for line in cart.lines) == cart.total == 4673


def test_wrong_code_is_not_applicable_and_gives_nothing():
    _, cart = priced({1: 1}, codes=["NOPE"])
    assert cart.discount == 0 and cart.codes == [("NOPE", False)]
    assert cart_json(cart)["discount_codes"] == [{"code": "NOPE", "applicable": False}]


@pytest.mark.parametrize(
    ("lines", "codes", "free", "remaining"),
    [
        ({1: 2}, [], False, 5000 - 4998),  # $49.98: 2 cents short
        ({1: 1, 2: 1}, [], True, 0),  # $54.98
        ({1: 1, 2: 1}, ["ALLY15"], False, 5000 - 4673),  # discount pulls it under
        ({2: 2}, ["ALLY15"], True, 0),  # 5998 - 900 = 5098
    ],
)
def test_free_shipping_threshold_on_discounted_total(lines, codes, free, remaining):
    _, cart = priced(lines, codes)
    assert (cart.free_shipping, cart.free_shipping_remaining) == (free, remaining)


def test_exactly_the_threshold_ships_free():
    catalog = {1: CatalogItem(1, "Fifty", "fifty", 5000)}
    _, cart = priced({1: 1}, catalog=catalog)
    assert cart.total == 5000 and cart.free_shipping and cart.free_shipping_remaining == 0
    _, below = priced({1: 1}, catalog={1: CatalogItem(1, "Almost", "a", 4999)})
    assert not below.free_shipping and below.free_shipping_remaining == 1


def test_unavailable_and_deleted_products_drop_out_with_a_notice():
    state, cart = priced({1: 1, 3: 2, 77: 1})
    assert [line.item.id for line in cart.lines] == [1]
    assert cart.notices == [
        "Gone is no longer available and was removed from your cart.",
        "A product is no longer available and was removed from your cart.",
    ]
    assert state.to_state()["lines"] == [[1, 1]]


@pytest.mark.parametrize("bad", [-1, 100, 1.5, 1.0, "2", None, [], {}, 10**20, True, False])
def test_quantity_must_be_an_int_from_0_to_99(bad):
    with pytest.raises(CartError):
        validate_quantity(bad)


def test_add_caps_a_line_at_99_and_the_cart_at_max_lines():
    cart = Cart()
    cart.add(1, 90)
    with pytest.raises(CartError, match="You can't add more"):
        cart.add(1, 10)
    assert cart.lines == {1: 90}
    for pid in range(2, MAX_LINES + 1):
        cart.add(pid, 1)
    with pytest.raises(CartError, match="at most 20"):
        cart.add(999, 1)
    assert len(cart.lines) == MAX_LINES


@pytest.mark.parametrize(
    "state",
    [
        None,
        "junk",
        {"lines": "x"},
        {"lines": [[1]]},
        {"lines": [["1", 2]]},
        {"lines": [[1, 500]]},
        {"lines": [[True, 1]]},
        {"codes": [1, None]},
        {"lines": [[1, 0]]},
    ],
)
def test_malformed_state_reads_as_an_empty_cart(state):
    cart = Cart(state)
    assert cart.lines == {} and cart.codes == []


def test_lines_keys_and_references():
    cart = Cart({"lines": [[1, 1], [2, 3]]})
    assert cart.product_at(2) == 2
    assert cart.product_for(line_key(2)) == 2 and cart.product_for(1) == 1
    for bad in (0, 3, "1", True):
        with pytest.raises(CartError):
            cart.product_at(bad)
    with pytest.raises(CartError):
        cart.product_for("nope:1")


def test_codes_are_normalised_and_limited():
    cart = Cart()
    cart.set_codes(" ally15 , ALLY15,")
    assert cart.codes == ["ALLY15"]
    with pytest.raises(CartError):
        cart.set_codes("X" * 41)
    with pytest.raises(CartError):
        cart.set_codes(15)


def test_json_shape_has_the_shopify_fields():
    _, cart = priced({1: 2}, codes=["ALLY15"])
    data = cart_json(cart)
    assert list(data)[:6] == [
        "item_count",
        "items",
        "items_subtotal_price",
        "original_total_price",
        "total_discount",
        "total_price",
    ]
    item = data["items"][0]
    assert {
        "key",
        "id",
        "product_id",
        "title",
        "quantity",
        "price",
        "line_price",
        "final_line_price",
        "url",
        "image",
    } <= set(item)
    assert (item["price"], item["line_price"], item["final_line_price"]) == (2499, 4998, 4248)
    assert (data["free_shipping_threshold"], data["free_shipping_remaining"]) == (5000, 752)
