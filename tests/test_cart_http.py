"""The cart endpoints over HTTP: shapes, every bad input, CSRF, and the cookie."""

import pytest
import sqlalchemy as sa

from ally.cart.cart import line_key
from ally.models import Product

from .factories import make_page
from .factories import make_product


@pytest.fixture
def products(site, db_session):
    from ally.models import PromoPage
    from ally.models import StandardPage

    melatonin = make_product("Melatonin", 2499)
    probiotic = make_product("Probiotic", 2999)
    shop = make_page(site.home, StandardPage, title="Shop", slug="products")
    make_page(shop, PromoPage, title="Melatonin", slug="melatonin", product_id=melatonin.id)
    db_session.commit()
    return melatonin, probiotic


def cart(client) -> dict:
    return client.get("/cart.js").json


def add(client, product_id, quantity=1):
    return client.post("/cart/add.js", json={"id": product_id, "quantity": quantity})


def test_empty_cart(client, db_session):
    data = cart(client)
    assert data["item_count"] == 0 and data["items"] == [] and data["total_price"] == 0
    assert data["currency"] == "USD" and data["free_shipping"] is False


@pytest.mark.parametrize("codes", [[], ["ALLY15"]])
def test_an_empty_cart_is_priced_as_the_pricing_would(app, codes):
    """The header prices an empty cart without the pricing; the result is the same, and a
    cart holding only a code still goes through the pricing (the drawer shows the code)."""
    from ally.cart.cart import Cart
    from ally.cart.cart import price_cart
    from ally.cart.views import discount_codes
    from ally.cart.views import priced

    with app.test_request_context("/"):
        cart = Cart({"lines": [], "codes": codes})
        expected = price_cart(
            Cart(cart.to_state()),
            {},
            discount_codes(),
            free_shipping_threshold=app.config["ALLY_FREE_SHIPPING_CENTS"],
            currency=app.config["ALLY_CURRENCY"],
        )
        assert priced(cart) == expected
        assert priced(cart).codes == [(code, True) for code in codes]


def test_add_returns_added_lines_and_cart_reflects_them(client, products):
    melatonin, probiotic = products
    response = add(client, melatonin.id, 2)
    assert response.status_code == 200
    assert [(i["id"], i["quantity"], i["line_price"]) for i in response.json["items"]] == [
        (melatonin.id, 2, 4998)
    ]
    assert response.json["items"][0]["url"] == "/products/melatonin/"
    again = add(client, melatonin.id, 1)
    assert again.json["items"][0]["quantity"] == 3  # the line's new total
    both = client.post("/cart/add.js", json={"items": [{"id": probiotic.id, "quantity": 1}]})
    assert [i["id"] for i in both.json["items"]] == [probiotic.id]
    data = cart(client)
    assert data["item_count"] == 4 and data["total_price"] == 3 * 2499 + 2999


def test_change_by_line_id_and_key_and_zero_removes(client, products):
    melatonin, probiotic = products
    add(client, melatonin.id)
    add(client, probiotic.id)
    assert (
        client.post("/cart/change.js", json={"line": 2, "quantity": 3}).json["items"][1]["quantity"]
        == 3
    )
    assert (
        client.post("/cart/change.js", json={"id": melatonin.id, "quantity": 5}).json["item_count"]
        == 8
    )
    by_key = client.post("/cart/change.js", json={"id": line_key(probiotic.id), "quantity": 0})
    assert [i["id"] for i in by_key.json["items"]] == [melatonin.id]


def test_update_quantities_and_discount(client, products):
    melatonin, probiotic = products
    add(client, melatonin.id)
    data = client.post(
        "/cart/update.js", json={"updates": {str(probiotic.id): 2}, "discount": "ally15"}
    ).json
    assert data["item_count"] == 3
    assert data["discount_codes"] == [{"code": "ALLY15", "applicable": True}]
    assert data["total_discount"] == round((2499 + 2 * 2999) * 0.15)
    assert sum(i["total_discount"] for i in data["items"]) == data["total_discount"]
    assert data["total_price"] == data["items_subtotal_price"] - data["total_discount"]
    listed = client.post("/cart/update.js", json={"updates": [0, 1]}).json
    assert [(i["id"], i["quantity"]) for i in listed["items"]] == [(probiotic.id, 1)]


def test_wrong_code_is_reported_not_applied(client, products):
    add(client, products[0].id)
    data = client.post("/cart/update.js", json={"discount": "SAVE50"}).json
    assert data["discount_codes"] == [{"code": "SAVE50", "applicable": False}]
    assert data["total_discount"] == 0
    page = client.get("/cart/").get_data(as_text=True)
    assert "The code <strong>SAVE50</strong> isn&#39;t valid" in page or "isn't valid" in page


def test_clear(client, products):
    add(client, products[0].id)
    client.post("/cart/update.js", json={"discount": "ALLY15"})
    data = client.post("/cart/clear.js").json
    assert data["item_count"] == 0 and data["discount_codes"][0]["code"] == "ALLY15"


def test_sections_render_the_drawer(client, products):
    add(client, products[0].id)
    data = client.get("/cart.js?sections=cart-drawer").json
    assert (
        "Melatonin" in data["sections"]["cart-drawer"]
        and "$24.99" in data["sections"]["cart-drawer"]
    )
    empty = client.post("/cart/clear.js", json={"sections": ["cart-drawer"]}).json
    assert "Your cart is empty." in empty["sections"]["cart-drawer"]


def test_prices_come_from_the_database_on_every_read(client, products, db_session):
    melatonin = products[0]
    add(client, melatonin.id, 2)
    db_session.get(Product, melatonin.id).price_cents = 1999
    db_session.commit()
    assert cart(client)["total_price"] == 3998


@pytest.mark.parametrize("gone", ["inactive", "deleted"])
def test_unavailable_product_drops_out_with_a_notice(client, products, db_session, gone):
    melatonin, probiotic = products
    add(client, melatonin.id)
    add(client, probiotic.id)
    if gone == "inactive":
        db_session.get(Product, probiotic.id).active = False
    else:
        db_session.execute(sa.delete(Product).where(Product.id == probiotic.id))
    db_session.commit()
    data = cart(client)
    assert [i["id"] for i in data["items"]] == [melatonin.id]
    assert "no longer available" in data["notices"][0]
    assert cart(client)["notices"] == []  # the cookie was rewritten once


BAD_QUANTITIES = [-1, 100, 1.5, "2", None, [], {}, 10**20, True]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
@pytest.mark.parametrize("endpoint", ["add", "change", "update"])
def test_bad_quantity_is_422_and_cart_unchanged(client, products, endpoint, quantity):
    melatonin = products[0]
    add(client, melatonin.id, 2)
    before = cart(client)
    body = {
        "add": {"id": melatonin.id, "quantity": quantity},
        "change": {"line": 1, "quantity": quantity},
        "update": {"updates": {str(melatonin.id): quantity}},
    }[endpoint]
    response = client.post(f"/cart/{endpoint}.js", json=body)
    assert response.status_code == 422
    assert response.json["status"] == 422 and response.json["message"] == "Cart Error"
    assert "Quantity" in response.json["description"]
    assert cart(client) == before


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "status", "words"),
    [
        ("add", {"json": {"quantity": 1}}, 422, "product id"),
        ("add", {"json": {"id": 99999, "quantity": 1}}, 404, "not available"),
        ("add", {"json": {"id": "1", "quantity": 1}}, 422, "product id"),
        ("add", {"json": {"id": 10**20, "quantity": 1}}, 422, "product id"),
        ("add", {"json": {"id": 1, "quantity": 1, "price": 1}}, 422, "Prices are set by the shop"),
        ("add", {"json": {"items": [{"id": 1, "quantity": 1, "final_price": 0}]}}, 422, "prices"),
        ("add", {"json": {"items": []}}, 422, "items"),
        (
            "add",
            {"data": "id=1&quantity=1", "content_type": "application/x-www-form-urlencoded"},
            422,
            "JSON",
        ),
        ("add", {"data": "{not json", "content_type": "application/json"}, 422, "JSON object"),
        ("add", {"json": [1, 2]}, 422, "JSON object"),
        ("add", {"data": "", "content_type": "text/plain"}, 422, "Content-Type"),
        ("change", {"json": {"line": 5, "quantity": 1}}, 422, "no line"),
        ("change", {"json": {"line": 1, "id": 1, "quantity": 1}}, 422, "exactly one"),
        ("change", {"json": {"line": 1}}, 422, "quantity"),
        ("change", {"json": {"id": "nope:1", "quantity": 1}}, 422, "no line"),
        ("update", {"json": {"updates": "x"}}, 422, "updates"),
        ("update", {"json": {"updates": [1, 1, 1]}}, 422, "more updates"),
        ("update", {"json": {"discount": 15}}, 422, "discount"),
        ("update", {"json": {"discount": "X" * 41}}, 422, "too long"),
    ],
)
def test_bad_requests_are_clear_and_change_nothing(
    client, products, endpoint, kwargs, status, words
):
    add(client, products[0].id, 2)
    before = cart(client)
    response = client.post(f"/cart/{endpoint}.js", **kwargs)
    assert response.status_code == status
    assert response.json["message"] == "Cart Error" and words in response.json["description"]
    assert cart(client) == before


def test_line_cap_keeps_the_cookie_small(client, site, db_session):
    ids = [make_product(f"P{i}", 100).id for i in range(21)]
    db_session.commit()
    for pid in ids[:20]:
        assert add(client, pid, 99).status_code == 200
    assert add(client, ids[20]).status_code == 422
    cookie = client.get_cookie("session")
    assert len(cookie.value) < 1000


def test_post_without_csrf_token_is_refused(app, client, products, monkeypatch):
    add(client, products[0].id)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    before = cart(client)
    response = client.post("/cart/change.js", json={"line": 1, "quantity": 5})
    assert response.status_code == 400 and "CSRF" in response.json["message"]
    assert cart(client) == before
    # With the token from the page's meta tag it goes through.
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    ok = client.post(
        "/cart/change.js", json={"line": 1, "quantity": 5}, headers={"X-CSRFToken": token}
    )
    assert ok.status_code == 200 and ok.json["item_count"] == 5


def test_tampered_cookie_gives_an_empty_cart(client, products):
    add(client, products[0].id)
    value = client.get_cookie("session").value
    client.set_cookie("session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    response = client.get("/cart.js")
    assert response.status_code == 200 and response.json["item_count"] == 0


def test_catch_all_does_not_swallow_cart_posts(client, products):
    assert client.post("/cart/add.js", json={"id": products[0].id}).status_code == 200
    # The page tree never answers under /cart: a GET is a JSON 405, not a page lookup.
    response = client.get("/cart/add.js")
    assert response.status_code == 405 and "message" in response.json


# -- the page and the no-JavaScript forms ---------------------------------------------------


def test_header_widget_shows_the_cart_on_every_page(client, products):
    add(client, products[0].id)
    page = client.get("/blog/").get_data(as_text=True)
    assert 'aria-label="Cart: 1 item, $24.99"' in page
    assert '<span class="cart-count" data-cart-count>1</span>' in page


@pytest.fixture
def fresh_widgets(app, monkeypatch):
    """The empty cart's widget forgotten, as in a new worker; every page rendered afresh."""
    import weakref

    from ally import environment
    from ally.cart import views

    monkeypatch.setitem(app.config, "ALLY_CACHE_ENABLED", False)
    monkeypatch.setattr(environment, "_KEPT", weakref.WeakKeyDictionary())
    return views


def header(page: str) -> str:
    start = page.index('<details class="cart-widget"')
    return page[start : page.index("</details>", start)]


def test_an_empty_carts_widget_is_rendered_once_and_a_cart_with_anything_gets_its_own(
    app, client, products, db_session, fresh_widgets, monkeypatch
):
    rendered = []
    get_template = app.jinja_env.get_template

    def spy(name, *args, **kwargs):
        if name == fresh_widgets.CART_WIDGET:
            rendered.append(name)
        return get_template(name, *args, **kwargs)

    monkeypatch.setattr(app.jinja_env, "get_template", spy)
    empty = header(client.get("/blog/").get_data(as_text=True))
    assert header(client.get("/products/melatonin/").get_data(as_text=True)) == empty
    assert rendered == [fresh_widgets.CART_WIDGET]
    assert 'aria-label="Cart: 0 items, $0.00"' in empty and "Your cart is empty." in empty

    with app.test_client() as shopper:  # a cart with a line, then one left with a notice
        add(shopper, products[0].id)
        assert "data-cart-count>1</span>" in header(shopper.get("/blog/").get_data(as_text=True))
        db_session.execute(sa.delete(Product).where(Product.id == products[0].id))
        db_session.commit()
        notice = header(shopper.get("/blog/").get_data(as_text=True))
        assert "no longer available" in notice and "data-cart-count>0</span>" in notice
    assert header(client.get("/blog/").get_data(as_text=True)) == empty
    assert len(rendered) == 3


def test_an_empty_carts_widget_shows_nothing_of_the_request(app, fresh_widgets):
    """What is rendered once for everyone: no token, no path, no session of the reader's."""
    from ally.cart.views import cart_widget
    from ally.environment import kept

    widgets = []
    for path in ("/blog/", "/products/melatonin/?q=1"):
        with app.test_request_context(path):
            kept(app.jinja_env).clear()
            token = app.jinja_env.globals["csrf_token"]()
            widgets.append(str(cart_widget()))
    assert widgets[0] == widgets[1]
    assert token not in widgets[0] and "melatonin" not in widgets[0]


def test_while_templates_reload_the_empty_carts_widget_is_rendered_each_time(
    app, client, site, fresh_widgets, monkeypatch
):
    from jinja2 import ChoiceLoader
    from jinja2 import DictLoader

    override = DictLoader({fresh_widgets.CART_WIDGET: "<b>first</b>"})
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([override, app.jinja_env.loader]))
    monkeypatch.setattr(app.jinja_env, "auto_reload", True)
    assert "<b>first</b>" in client.get("/").get_data(as_text=True)
    override.mapping[fresh_widgets.CART_WIDGET] = "<b>edited</b>"
    assert "<b>edited</b>" in client.get("/").get_data(as_text=True)


def test_add_to_cart_form_works_without_javascript(client, products):
    response = client.post(
        "/cart/add",
        data={"id": str(products[0].id), "quantity": "1", "return_to": "/products/melatonin/"},
    )
    assert response.status_code == 303 and response.location == "/products/melatonin/"
    followed = client.get("/products/melatonin/").get_data(as_text=True)
    assert "Melatonin was added to your cart." in followed
    assert cart(client)["item_count"] == 1


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_add_form_never_redirects_off_site(client, products, target):
    response = client.post("/cart/add", data={"id": str(products[0].id), "return_to": target})
    assert response.location == "/cart/"


def test_form_fallbacks_change_discount_and_bad_input(client, products):
    add(client, products[0].id)
    client.post("/cart/change", data={"line": "1", "quantity": "3"})
    client.post("/cart/discount", data={"discount": "ally15"})
    data = cart(client)
    assert data["item_count"] == 3 and data["total_discount"] == round(3 * 2499 * 0.15)
    response = client.post(
        "/cart/change", data={"line": "1", "quantity": "-4"}, follow_redirects=True
    )
    assert "Quantity must be a whole number" in response.get_data(as_text=True)
    assert cart(client)["item_count"] == 3
    page = client.get("/cart/").get_data(as_text=True)
    assert "Code <strong>ALLY15</strong> applied" in page and "$63.72" in page


def test_checkout_link_only_when_configured(app, client, products, monkeypatch):
    add(client, products[0].id, 2)
    client.post("/cart/update.js", json={"discount": "ALLY15"})
    assert ">Checkout</a>" not in client.get("/cart/").get_data(as_text=True)
    monkeypatch.setitem(app.config, "ALLY_CHECKOUT_URL", "https://shop.example/cart/{lines}")
    page = client.get("/cart/").get_data(as_text=True)
    assert f'href="https://shop.example/cart/{products[0].id}:2?discount=ALLY15"' in page
