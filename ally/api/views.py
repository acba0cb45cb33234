"""``/api/v2/``: Wagtail API v2 endpoints over ALLY's content, read-only and public.

Only live pages are ever served. Responses carry an ``ETag`` (and ``Last-Modified`` for
pages) and answer revalidation with 304; CORS is opened to ``ALLY_CORS_ORIGINS``.
"""

import contextlib
import functools
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import request
from werkzeug.exceptions import NotFound

from ally import previews
from ally.cache import cacheable
from ally.cache import cached_value
from ally.cache import depends_on
from ally.database import rows
from ally.extensions import db
from ally.models import Image
from ally.models import Page
from ally.models import PageRevision
from ally.models import Product
from ally.models.base import MAX_ID
from ally.models.base import written
from ally.models.page_types import detail_page
from ally.models.page_types import page_columns
from ally.models.page_types import page_reference
from ally.models.page_types import promo_paths
from ally.models.page_types import promo_paths_json
from ally.models.search import through_index
from ally.site.routing import resolve
from ally.site.routing import split_path
from ally.templating import host_url

from . import endpoints
from . import filters
from .endpoints import ENDPOINTS
from .endpoints import Context
from .errors import ApiError
from .fields import FieldsParameterParseError
from .fields import parse_fields_parameter
from .fields import select_fields
from .fields import serialize
from .fields import serializer
from .prefetch import prepare_pages
from .reads import is_plain
from .reads import plain_window
from .reads import public_pages

bp = Blueprint("api", __name__, url_prefix="/api/v2")
RICH_TEXT_FORMATS = ("db_html", "html")


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return jsonify(message=error.message), error.status


def context() -> Context:
    asking = request._get_current_object()
    fmt = asking.args.get("rich_text_format", "db_html")
    if fmt not in RICH_TEXT_FORMATS:
        raise ApiError(f"rich_text_format must be one of: {', '.join(RICH_TEXT_FORMATS)}")
    api_base = host_url(asking).rstrip("/")
    site_url = current_app._get_current_object().config["ALLY_SITE_URL"]
    return Context(api_base, site_url or api_base, fmt)


def fields_config():
    args = request._get_current_object().args
    if "fields" not in args:
        return None
    try:
        return parse_fields_parameter(args["fields"])
    except FieldsParameterParseError as error:
        raise ApiError(f"fields error: {error}") from None


# Parameters that change which rows a listing shows, not how many match.
NOT_COUNTED = frozenset({"offset", "limit", "fields", "order", "rich_text_format", "format"})


def count(query: sa.Select, key) -> int:
    """``meta.total_count``: the filtered rows, counted by key only (no row data read).

    Counting scans every match, so the count is shared through the page cache's store
    (per endpoint and filter) until the rows it counted change.
    """
    asking = request._get_current_object()
    counted = sorted((k, v) for k, v in asking.args.items(multi=True) if k not in NOT_COUNTED)

    def count_now() -> int:  # the statement is only built when the store has no count
        keys = query.with_only_columns(key).order_by(None).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(keys))

    return cached_value(
        f"count {asking.endpoint} {asking.view_args} {counted}",
        count_now,
        tags=("pages", "categories", "images", "products"),
    )


def envelope(total: int, items: list) -> dict[str, Any]:
    return {"meta": {"total_count": total}, "items": items}


# -- pages ---------------------------------------------------------------------------------


@bp.get("/pages/")
@cacheable
def pages_listing():
    args = request._get_current_object().args
    depends_on("pages")
    types = endpoints.page_types(args.get("type"))
    fields = endpoints.page_fields(types)
    filters.check_params(args, fields, filters.PAGE_KNOWN)
    entity = types[0] if len(types) == 1 else Page
    query = filters.field_filters(public_pages(tuple(types)), args, fields)
    query = filters.tree_filters(query, args)
    query = filters.ordering(query, args, fields, default=(Page.url_path,))
    query = filters.search(query, args, Page.matching)
    limit_max = current_app._get_current_object().config["ALLY_API_LIMIT_MAX"]
    offset, limit = filters.pagination(args, limit_max)
    ctx = context()
    selected = select_fields(fields, endpoints.PAGE_LISTING_DEFAULT, fields_config(), listing=True)
    shown = {f.name for f, _ in selected}
    loaders = endpoints.load_options(shown)
    searching = filters.search_words(args)
    with through_index(db.session) if searching else contextlib.nullcontext():
        total = count(query, entity.id)  # entity, so a single type keeps its discriminator
        if is_plain(args, shown):
            pages = plain_window(tuple(types), offset, limit)
        else:
            window = query.options(*loaders).offset(written(offset)).limit(written(limit))
            pages = db.session.scalars(window).all()
    prepare_pages(pages, selected, ctx)
    serialize_page = serializer(selected, ctx)
    return conditional(envelope(total, [serialize_page(p) for p in pages]), pages)


def public_page_or_404(pk: int, ctx: Context) -> Page:
    """The public page ``pk``, read with its parent (kept in ``ctx`` for ``meta.parent``)
    and, for a post, its categories: one query for what a detail shows of the tree."""
    found = rows(_detail_statement(), {"pk": pk}) if pk <= MAX_ID else []
    if not found:
        raise ApiError("No Page matches the given query.", 404)
    values = found[0]._asdict()
    parent_values = {name: values.pop(PARENT + name) for name in PARENT_COLUMNS}
    depends_on("promo-pages")  # as promo_paths() does
    ctx.product_urls.update((item["product"], item["path"]) for item in values.pop(PROMOS) or ())
    page = detail_page(values)
    parent = page_reference(parent_values) if parent_values["id"] is not None else None
    ctx.parents[page.id] = parent if parent is not None and parent.is_public() else None
    return page


PARENT = "parent__"  # the prefix of the parent's columns in a detail's row
PROMOS = "promo_paths"  # the promo page paths of the products a detail shows
# What ``meta.parent`` shows of the parent, and what says whether it is public.
PARENT_COLUMNS = ("id", "page_type", "title", "url_path", "live", "go_live_at", "expire_at")


@functools.cache
def _detail_statement() -> sa.Select:
    """The page as ``detail_page`` builds it, its parent's :data:`PARENT_COLUMNS` and
    the promo page paths of the products it shows, built once; the parent's visibility is
    checked in Python (``Page.is_public``)."""
    pages = Page.__table__
    parent = pages.alias("parent")
    return (
        sa.select(
            *page_columns(),
            *(parent.c[name].label(PARENT + name) for name in PARENT_COLUMNS),
            promo_paths_json(pages).label(PROMOS),
        )
        .select_from(pages.outerjoin(parent, parent.c.id == pages.c.parent_id))
        .where(pages.c.id == sa.bindparam("pk"), Page.public_clause())
    )


def page_detail_response(page: Page, ctx: Context):
    fields = endpoints.page_fields([type(page)])
    selected = select_fields(fields, list(fields), fields_config(), listing=False)
    prepare_pages([page], selected, ctx)
    return serialize(page, selected, ctx)


@bp.get("/pages/<int:pk>/")
@cacheable
def pages_detail(pk: int):
    ctx = context()
    page = public_page_or_404(pk, ctx)
    return conditional(page_detail_response(page, ctx), [page])


@bp.get("/pages/find/")
def pages_find():
    """302 to the detail URL of the page at ``html_path`` (or ``id``), other params kept."""
    page = None
    if "html_path" in request.args:
        try:
            page = resolve(split_path(request.args["html_path"].strip("/"))).page
        except NotFound:
            page = None
    elif request.args.get("id", "").isdigit():
        page = db.session.scalar(
            sa.select(Page).where(
                Page.id == min(int(request.args["id"]), MAX_ID + 1), Page.public_clause()
            )
        )
    if page is None:
        raise ApiError("not found", 404)
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("html_path", "id")]
    query = urlencode(kept, safe=",()*-_")
    # A relative Location keeps whatever host and port the client used (Wagtail #7595).
    return redirect(f"/api/v2/pages/{page.id}/" + (f"?{query}" if query else ""), code=302)


# -- images, categories, products ------------------------------------------------------------


@bp.get("/<any(images, categories, products):name>/")
@cacheable
def listing(name: str):
    depends_on(name)
    endpoint = ENDPOINTS[name]
    args = request.args
    filters.check_params(args, endpoint.fields, filters.KNOWN)
    query = filters.field_filters(endpoint.base_query(), args, endpoint.fields)
    query = filters.ordering(query, args, endpoint.fields, default=(endpoint.model.id,))
    query = filters.search(query, args, filters.in_columns(*endpoint.search_columns))
    offset, limit = filters.pagination(args, current_app.config["ALLY_API_LIMIT_MAX"])
    ctx = context()
    selected = select_fields(
        endpoint.fields, endpoint.listing_default, fields_config(), listing=True
    )
    total = count(query, endpoint.model.id)
    rows = db.session.scalars(query.offset(offset).limit(limit)).all()
    if name == "products":
        ctx.product_urls = promo_paths([r.id for r in rows])
    serialize_row = serializer(selected, ctx)
    return conditional(envelope(total, [serialize_row(r) for r in rows]))


@bp.get("/<any(images, categories, products):name>/<int:pk>/")
@cacheable
def detail(name: str, pk: int):
    endpoint = ENDPOINTS[name]
    row = (
        None
        if pk > MAX_ID
        else db.session.scalar(endpoint.base_query().where(endpoint.model.id == pk))
    )
    if row is None:
        raise ApiError(f"No {endpoint.model.__name__} matches the given query.", 404)
    ctx = context()
    if isinstance(row, Product):
        ctx.product_urls = promo_paths([row.id])
    selected = select_fields(endpoint.fields, list(endpoint.fields), fields_config(), listing=False)
    return conditional(serialize(row, selected, ctx))


@bp.get("/images/find/")
def images_find():
    raw = request.args.get("id", "")
    image = db.session.get(Image, int(raw)) if raw.isdigit() and int(raw) <= MAX_ID else None
    if image is None:
        raise ApiError("not found", 404)
    return redirect(f"/api/v2/images/{image.id}/", code=302)


# -- HTTP: conditional requests, caching and CORS -------------------------------------------


# What makes a request conditional (``make_conditional`` answers nothing else).
CONDITIONS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)


def conditional(data: dict, pages: list[Page] | None = None):
    """JSON with an ETag (and Last-Modified from the pages shown); 304 when unchanged, 412
    when an ``If-Match`` fails. A request without conditions skips werkzeug's check, which
    parsed the two headers just written (3% of an API listing's instructions); the server
    adds the ``Date`` it would have."""
    response = jsonify(data)
    response.add_etag()
    stamps = [
        p.last_published_at or p.updated_at
        for p in pages or []
        if p.last_published_at or p.updated_at
    ]
    if stamps:
        response.last_modified = max(stamps)
    environ = request._get_current_object().environ
    if any(condition in environ for condition in CONDITIONS):
        return response.make_conditional(environ)
    return response


@bp.after_request
def http_headers(response):
    if "Cache-Control" not in response.headers:
        public = response.status_code in (200, 302, 304)
        response.headers["Cache-Control"] = "public, max-age=60" if public else "no-store"
    # The request's own Origin header, read without the proxy: this runs for every response.
    origin = request._get_current_object().environ.get("HTTP_ORIGIN")
    allowed = current_app._get_current_object().config["ALLY_CORS_ORIGINS"]
    if origin and ("*" in allowed or origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "If-None-Match, If-Modified-Since"
        )
        response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    return response


# -- headless preview ------------------------------------------------------------------------


@bp.get("/page_preview/")
def page_preview():
    """A draft revision in the detail shape, for a signed token the admin hands out.

    Shaped like wagtail-headless-preview's endpoint (``content_type`` and ``token``), so a
    front-end built for it works; never cached.
    """
    unknown = set(request.args) - {
        "token",
        "content_type",
        "fields",
        "rich_text_format",
        "format",
        "_",
    }
    if unknown:
        raise ApiError(
            "query parameter is not an operation or a recognised field: "
            + ", ".join(sorted(unknown))
        )
    try:
        page_id, revision_id = previews.read_token(request.args.get("token", ""))
    except ValueError as error:
        raise ApiError(str(error)) from None
    page = db.session.get(Page, page_id)
    revision = db.session.get(PageRevision, revision_id)
    if page is None or revision is None or revision.page_id != page.id:
        raise ApiError("not found", 404)
    ctx = context()
    with db.session.no_autoflush:
        draft = previews.draft_page(
            type(page), {**page.to_snapshot(), **revision.content}, page.url_path, page
        )
        data = page_detail_response(draft, ctx)
    db.session.rollback()
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response
