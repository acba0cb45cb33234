"""Template filters and globals shared by every blueprint's templates."""

import functools
from datetime import date
from datetime import datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from flask import Flask
from flask import current_app
from flask import request
from jinja2.filters import do_truncate
from markupsafe import Markup
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request

from ally import images
from ally.cart import cart_widget
from ally.cart import checkout_url
from ally.environment import as_markup
from ally.environment import escape_output
from ally.models.pages import category_path
from ally.models.pages import parent_path


def money(cents: int | None) -> str:
    """Integer cents as the shop shows money: ``2999`` → ``$29.99``."""
    cents = cents or 0
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def long_date(value: date | datetime | None) -> str:
    """``Aug 12, 2024``, as the blog prints post dates: in English whatever the server's
    locale (``%b`` would follow it), and without strftime, a post card's dearest filter."""
    return f"{MONTHS[value.month - 1]} {value.day:02d}, {value.year}" if value else ""


def iso_date(value: date | datetime | None) -> str:
    """A date as ``<time datetime>`` wants it: ``2024-08-12``; empty for none."""
    return value.isoformat() if value else ""


def local_time(value: datetime | None) -> str:
    """A UTC time in the site's time zone, as authors read it: ``Aug 12, 2024 09:30 EDT``."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(current_app.config["ALLY_TIME_ZONE"]))
    return f"{local:%b} {local.day:02d}, {local.year} {local:%H:%M %Z}"


def post_meta(post) -> Markup:
    """A post's date and categories, each category linking to its listing in the post's
    blog: the line every post card and post shows. Built here, not in a macro: a macro
    call per card cost a listing 3% of its instructions (``bench/RESULTS.md``)."""
    return _post_meta(post.url_path, post.date, tuple(post.filed_under))


@functools.lru_cache(maxsize=512)
def _post_meta(url_path: str, day: date | None, categories: tuple) -> Markup:
    """The line for a post at ``url_path``, made once for each path, date and categories
    (names and slugs): a listing shows the same posts to every reader, and making the
    line took a cold listing 7% of its instructions. A rename or a move is a new key."""
    blog_path = parent_path(url_path)
    links = ", ".join(
        [
            f'<a href="{escape_output(category_path(blog_path, category.slug))}"'
            f' rel="category tag">{escape_output(category.name)}</a>'
            for category in categories
        ]
    )
    # Dates print as digits, month names and commas: nothing to escape.
    time = f'<time datetime="{iso_date(day)}">{long_date(day)}</time>'
    return as_markup(f'<p class="post-meta">{time}{" | " if links else ""}{links}</p>')


def seo_tags(page, canonical_path: str, description: str | None = None) -> Markup:
    """A page's canonical link, its description (``description``, else its search
    description, else its intro; truncated as Jinja's ``truncate(300)`` does) and its Open
    Graph tags. Built here, not in a macro, as :func:`post_meta` is: the macro cost a cold
    post page and a listing 0.9% of their instructions."""
    app = current_app._get_current_object()
    url = escape_output(absolute_url(canonical_path))
    description = description or page.search_description or page.intro
    tags = [f'<link rel="canonical" href="{url}">']
    if description:
        text = escape_output(do_truncate(app.jinja_env, description, 300))
        tags.append(f'<meta name="description" content="{text}">')
    tags += [
        f'<meta property="og:site_name" content="{escape_output(app.config["ALLY_SITE_NAME"])}">',
        f'<meta property="og:title" content="{escape_output(page.seo_title_or_title)}">',
        f'<meta property="og:url" content="{url}">',
    ]
    if description:
        tags.append(f'<meta property="og:description" content="{text}">')
    return as_markup("\n  ".join(tags))


def absolute_url(path: str) -> str:
    """``path`` on the public site: ``ALLY_SITE_URL`` when set, else the request's host.

    A site path (``/blog/``) is appended as it is; anything else goes through ``urljoin``,
    which a post page would otherwise pay for four times.
    """
    base = (
        current_app._get_current_object().config["ALLY_SITE_URL"]
        or host_url(request._get_current_object())
    ).rstrip("/")
    if path.startswith("/") and not path.startswith("//"):
        return base + path
    return urljoin(base + "/", path.lstrip("/"))


def host_url(reading: Request) -> str:
    """``reading.host_url`` (``http://127.0.0.1:8000/``), worked out once per scheme and
    host: werkzeug joins and IRI-decodes it again at every read, 2% of a listing's
    instructions. Hosts are the request's (validated by ``TRUSTED_HOSTS`` when set); the
    memo is bounded, so a client sending many cannot grow it."""
    return _host_url(reading.scheme, reading.host)


@functools.lru_cache(maxsize=64)
def _host_url(scheme: str, host: str) -> str:
    return get_current_url(scheme, host)


def init_app(app: Flask) -> None:
    from ally.site.routing import menu  # the site blueprint imports this module

    app.add_template_filter(money)
    app.add_template_filter(long_date)
    app.add_template_filter(iso_date)
    app.add_template_filter(parent_path)
    app.add_template_filter(category_path)
    app.add_template_global(absolute_url)
    app.add_template_global(post_meta)
    app.add_template_global(seo_tags)
    app.add_template_global(menu, name="menu_pages")
    app.add_template_global(cart_widget)
    app.add_template_global(checkout_url)
    app.add_template_global(images.rendition_url)
    app.add_template_global(images.rendition_size)
    app.add_template_filter(local_time)

    @app.context_processor
    def site_settings():
        config = current_app._get_current_object().config
        return {
            "site_name": config["ALLY_SITE_NAME"],
            "free_shipping_cents": config["ALLY_FREE_SHIPPING_CENTS"],
        }
