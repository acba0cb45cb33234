"""Plain functions that build pages and records through the real tree operations."""

import itertools
from datetime import date
from types import SimpleNamespace

from ally import tree
from ally.extensions import db
from ally.models import BlogIndexPage
from ally.models import BlogPage
from ally.models import Category
from ally.models import HomePage
from ally.models import Page
from ally.models import Product
from ally.models import StandardPage
from ally.models import User

_numbers = itertools.count(1)


def make_page(
    parent: Page | None,
    page_type: type[Page] = StandardPage,
    *,
    live: bool = True,
    body=None,
    **fields,
) -> Page:
    """Create a page under ``parent``, save a revision, and publish it when ``live``."""
    fields.setdefault("title", f"Page {next(_numbers)}")
    page = page_type(**{k: v for k, v in fields.items() if k != "categories"})
    tree.add_child(parent, page)
    if "categories" in fields:
        page.categories = fields["categories"]
    if body is not None:
        page.set_body(body)
    revision = tree.save_revision(page)
    if live:
        tree.publish(revision)
    return page


def make_post(
    index: BlogIndexPage,
    *,
    title: str | None = None,
    day: date | None = None,
    categories=(),
    body=None,
    live: bool = True,
    **fields,
) -> BlogPage:
    number = next(_numbers)
    return make_page(
        index,
        BlogPage,
        live=live,
        title=title or f"Post {number}",
        date=day or date(2024, 1, 1),
        intro=fields.pop("intro", f"Intro of post {number}"),
        categories=list(categories),
        body=body
        if body is not None
        else [
            {"type": "heading", "value": {"text": f"Heading {number}", "level": 2}},
            {"type": "paragraph", "value": f"Body text of post {number}."},
        ],
        **fields,
    )


def make_category(name: str, slug: str | None = None) -> Category:
    category = Category(name=name, slug=slug or tree.make_slug(name))
    db.session.add(category)
    db.session.flush()
    return category


def make_product(name: str = "Melatonin", price_cents: int = 2499, **fields) -> Product:
    fields.setdefault("slug", tree.make_slug(name))
    product = Product(name=name, price_cents=price_cents, **fields)
    db.session.add(product)
    db.session.flush()
    return product


def make_site() -> SimpleNamespace:
    home = make_page(None, HomePage, title="ALLY Essentials", slug="home")
    blog = make_page(home, BlogIndexPage, title="Blog", slug="blog", show_in_menus=True)
    health = make_category("Health Management")
    recovery = make_category("Recovery")
    return SimpleNamespace(home=home, blog=blog, health=health, recovery=recovery)


def make_user(email: str, role: str, password: str, **fields) -> User:
    user = User(email=email, role=role, **fields)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
