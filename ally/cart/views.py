"""The cart blueprint: Shopify's Ajax Cart API (``/cart.js``, ``/cart/*.js``) over the
session cookie, an HTML cart page, and form fallbacks so the cart works without JavaScript.

Every read prices the cart from the database; the cookie holds only ids, quantities and
codes. JSON errors are ``{"status", "message": "Cart Error", "description"}`` and leave the
cart exactly as it was: nothing is written to the session until a request has succeeded.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from markupsafe import Markup

from ally.environment import as_markup
from ally.environment import kept
from ally.extensions import db
from ally.models import Product
from ally.models.base import by_ids
from ally.models.page_types import promo_paths
from ally.safe_redirect import same_site_path

from .cart import Cart
from .cart import CartError
from .cart import CatalogItem
from .cart import PricedCart
from .cart import cart_json
from .cart import item_json
from .cart import price_cart
from .cart import validate_id
from .cart import validate_quantity

bp = Blueprint("cart", __name__)

SESSION_KEY = "cart"
SECTIONS = {"cart-drawer": "cart/_drawer.html"}


# -- reading and pricing -------------------------------------------------------------------


def load_cart() -> Cart:
    return Cart(session._get_current_object().get(SESSION_KEY))


def save_cart(cart: Cart) -> None:
    session[SESSION_KEY] = cart.to_state()


def load_catalog(ids) -> dict[int, CatalogItem]:
    """The products in ``ids`` with their promo page URLs: two queries, however many lines."""
    if not ids:
        return {}
    products = db.session.scalars(by_ids(Product), {"ids": list(ids)}).all()
    urls = promo_paths(ids)
    return {
        p.id: CatalogItem(p.id, p.name, p.slug, p.price_cents, urls.get(p.id), None, p.active)
        for p in products
    }


def discount_codes() -> dict[str, Decimal]:
    return {current_app.config["ALLY_SUBSCRIBE_CODE"].upper(): Decimal(15)}


def priced(cart: Cart) -> PricedCart:
    """Price ``cart``; lines whose product went away are dropped and the cookie updated.

    An empty cart (most page views: every header shows the cart) is priced as such without
    the discount arithmetic, which cost a cold page 1.5% of its instructions."""
    config = current_app._get_current_object().config
    threshold, currency = config["ALLY_FREE_SHIPPING_CENTS"], config["ALLY_CURRENCY"]
    if not cart.lines and not cart.codes:
        return PricedCart([], [], 0, free_shipping_threshold=threshold, currency=currency)
    before = len(cart.lines)
    result = price_cart(
        cart,
        load_catalog(list(cart.lines)),
        discount_codes(),
        free_shipping_threshold=threshold,
        currency=currency,
    )
    if len(cart.lines) != before:
        save_cart(cart)
    return result


def header_cart() -> PricedCart:
    """The cart the header shows, priced once per request (no query for an empty cart)."""
    cache = request._get_current_object().environ.setdefault("ally.cart", {})
    if "priced" not in cache:
        cache["priced"] = priced(load_cart())
    return cache["priced"]


CART_WIDGET = "site/_cart_widget.html"


def cart_widget() -> Markup:
    """The header's cart: ``site/_cart_widget.html`` rendered with this request's ``cart``.

    A cart with nothing in it (no lines, codes or notices), every first-time reader's,
    shows everyone the same widget, so it is rendered once per environment
    (:func:`~ally.environment.kept`). Rendering it cost every page 5% of its
    instructions. The widget's empty state must therefore show nothing of the request,
    as a cached page must not (the cart fills in from ``/cart.js``).
    """
    cart = header_cart()
    env = current_app._get_current_object().jinja_env
    if cart.lines or cart.codes or cart.notices:
        return as_markup(env.get_template(CART_WIDGET).render(cart=cart))
    memo = kept(env)
    if CART_WIDGET not in memo:
        memo[CART_WIDGET] = as_markup(env.get_template(CART_WIDGET).render(cart=cart))
    return memo[CART_WIDGET]


def checkout_url(cart: PricedCart) -> str | None:
    """``ALLY_CHECKOUT_URL`` carrying the lines as ``id:qty,…`` (Shopify's cart permalink)."""
    base = current_app._get_current_object().config.get("ALLY_CHECKOUT_URL")
    if not base or not cart.lines:
        return None
    lines = ",".join(f"{line.item.id}:{line.quantity}" for line in cart.lines)
    code = next((c for c, ok in cart.codes if ok), None)
    if "{lines}" in base:
        url = base.replace("{lines}", lines)
    else:
        url = f"{base}{'&' if '?' in base else '?'}items={lines}"
    return f"{url}{'&' if '?' in url else '?'}discount={quote(code)}" if code else url


# -- JSON endpoints ------------------------------------------------------------------------


@bp.errorhandler(CartError)
def cart_error(error: CartError):
    return jsonify(
        status=error.status, message="Cart Error", description=error.description
    ), error.status


def json_body(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, refusing other content types and unknown keys."""
    if not request.is_json:
        raise CartError("Send a JSON object with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise CartError("The request body must be a JSON object.")
    unknown = sorted(set(data) - allowed - {"sections"})
    if unknown:
        hint = " Prices are set by the shop." if any("price" in k for k in unknown) else ""
        raise CartError(f"Unknown field(s): {', '.join(unknown)}.{hint}")
    return data


def cart_response(cart: Cart, data: dict | None = None, extra: dict | None = None):
    result = priced(cart)
    body = extra if extra is not None else cart_json(result)
    sections = (data or {}).get("sections") or request.args.get("sections")
    if sections:
        names = sections if isinstance(sections, list) else str(sections).split(",")
        body["sections"] = {
            name: render_template(SECTIONS[name], cart=result, checkout=checkout_url(result))
            for name in names
            if name in SECTIONS
        }
    return jsonify(body)


@bp.get("/cart.js")
def show():
    return cart_response(load_cart())


@bp.post("/cart/add.js")
def add():
    """Add ``{"id", "quantity"}`` or ``{"items": [...]}``; answers with the added lines."""
    data = json_body({"id", "quantity", "items"})
    if "items" in data:
        if "id" in data or not isinstance(data["items"], list) or not data["items"]:
            raise CartError('Send either {"id", "quantity"} or a non-empty "items" list.')
        requested = data["items"]
    else:
        requested = [{k: data[k] for k in ("id", "quantity") if k in data}]
    cart = load_cart()
    added = []
    for entry in requested:
        if not isinstance(entry, dict) or set(entry) - {"id", "quantity"}:
            raise CartError('Each item is {"id", "quantity"}; prices are set by the shop.')
        product = _available_product(entry.get("id"))
        quantity = validate_quantity(entry.get("quantity", 1))
        cart.add(product.id, quantity, product.name)
        added.append(product.id)
    save_cart(cart)
    result = priced(cart)
    lines = [item_json(line, None) for line in result.lines if line.item.id in added]
    return cart_response(cart, data, {"items": lines})


@bp.post("/cart/change.js")
def change():
    """Set one line's quantity, by ``id`` (or line key) or 1-based ``line``; 0 removes it."""
    data = json_body({"id", "line", "quantity"})
    if ("id" in data) == ("line" in data):
        raise CartError('Send exactly one of "id" or "line", with "quantity".')
    if "quantity" not in data:
        raise CartError('"quantity" is required.')
    cart = load_cart()
    product_id = cart.product_for(data["id"]) if "id" in data else cart.product_at(data["line"])
    cart.set(product_id, validate_quantity(data["quantity"]))
    save_cart(cart)
    return cart_response(cart, data)


@bp.post("/cart/update.js")
def update():
    """Set several quantities (``updates`` as a map or a list by line) and/or ``discount``."""
    data = json_body({"updates", "discount"})
    cart = load_cart()
    updates = data.get("updates", {})
    if isinstance(updates, list):
        if len(updates) > len(cart.lines):
            raise CartError("There are more updates than lines in the cart.")
        pairs = [(pid, qty) for pid, qty in zip(list(cart.lines), updates, strict=False)]
    elif isinstance(updates, dict):
        pairs = [(_update_target(cart, ref), qty) for ref, qty in updates.items()]
    else:
        raise CartError('"updates" must be an object or a list of quantities.')
    for product_id, quantity in [(pid, validate_quantity(qty)) for pid, qty in pairs]:
        cart.set(product_id, quantity)
    if "discount" in data:
        cart.set_codes(data["discount"])
    save_cart(cart)
    return cart_response(cart, data)


def _update_target(cart: Cart, ref: str) -> int:
    """A key of ``updates``: a line key, or a product id (added when not in the cart yet)."""
    if ref.isdigit() and len(ref) <= 10:
        return _available_product(int(ref)).id
    return cart.product_for(ref)


@bp.post("/cart/clear.js")
def clear():
    data = json_body(set()) if request.content_length else {}
    cart = load_cart()
    cart.clear()
    save_cart(cart)
    return cart_response(cart, data)


def _available_product(ref: Any) -> Product:
    product_id = validate_id(ref)
    product = db.session.get(Product, product_id)
    if product is None or not product.active:
        raise CartError(f"Product {product_id} is not available.", status=404)
    return product


# -- HTML page and no-JavaScript fallbacks ---------------------------------------------------


@bp.get("/cart/")
def page():
    result = priced(load_cart())
    return render_template("cart/cart.html", cart=result, checkout=checkout_url(result))


@bp.post("/cart/add")
def add_form():
    """ "Add to cart" without JavaScript: add, then go back to the page the button was on."""
    back = same_site_path(request.form.get("return_to"), url_for("cart.page"))
    try:
        product = _available_product(_form_int("id"))
        quantity = validate_quantity(_form_int("quantity", 1))
        cart = load_cart()
        cart.add(product.id, quantity, product.name)
    except CartError as error:
        flash(error.description, "error")
        return redirect(back, code=303)
    save_cart(cart)
    flash(f"{product.name} was added to your cart.", "success")
    return redirect(back, code=303)


@bp.post("/cart/change")
def change_form():
    try:
        cart = load_cart()
        cart.set(cart.product_at(_form_int("line")), validate_quantity(_form_int("quantity")))
    except CartError as error:
        flash(error.description, "error")
        return redirect(url_for("cart.page"), code=303)
    save_cart(cart)
    return redirect(url_for("cart.page"), code=303)


@bp.post("/cart/discount")
def discount_form():
    cart = load_cart()
    try:
        cart.set_codes(request.form.get("discount", ""))
    except CartError as error:
        flash(error.description, "error")
        return redirect(url_for("cart.page"), code=303)
    save_cart(cart)
    return redirect(url_for("cart.page"), code=303)


def _form_int(name: str, default: int | None = None) -> Any:
    """A form field as an int when it is all digits; the domain rejects anything else."""
    raw = request.form.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isdigit() and len(raw) <= 10 else raw
