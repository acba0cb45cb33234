"""``/api/v2/openapi.json``: an OpenAPI 3.1 description of what the endpoints do.

Written by hand from the same tables the endpoints use (page types, fields, limits), and
checked by a schema-driven fuzzer in the tests, so it cannot drift unnoticed.
"""

from typing import Any

from flask import current_app
from flask import jsonify

from ally.models import Page

from .endpoints import ENDPOINTS
from .endpoints import PAGE_BODY_FIELDS
from .endpoints import PAGE_META_FIELDS
from .endpoints import TYPE_FIELDS
from .views import RICH_TEXT_FORMATS
from .views import bp

JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}


def param(name: str, schema: dict, description: str = "", where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def responses(ok_schema: dict | None, *extra: int) -> dict:
    out: dict[str, Any] = {}
    if ok_schema is not None:
        out["200"] = {"description": "OK", "content": {JSON: {"schema": ok_schema}}}
    out["304"] = {"description": "Not modified (If-None-Match / If-Modified-Since)"}
    out["400"] = {"description": "Bad query parameter", "content": {JSON: {"schema": ERROR}}}
    for code in extra:
        description = {302: "Found: Location is the detail URL", 404: "Not found"}[code]
        out[str(code)] = (
            {"description": description}
            if code == 302
            else {"description": description, "content": {JSON: {"schema": ERROR}}}
        )
    return out


def common_listing_params(limit_max: int) -> list[dict]:
    return [
        param("fields", {"type": "string"}, "Wagtail fields grammar: *, _, -x, x(a,b)"),
        param("limit", {"type": "integer", "minimum": 0, "maximum": limit_max}),
        param("offset", {"type": "integer", "minimum": 0}),
        param("order", {"type": "string"}, "Field names, '-' for descending, or 'random'"),
        param("search", {"type": "string"}),
        param("search_operator", {"type": "string", "enum": ["and", "or"]}),
        param("rich_text_format", {"type": "string", "enum": list(RICH_TEXT_FORMATS)}),
    ]


def field_params(fields) -> list[dict]:
    kinds = {
        "id": "integer",
        "show_in_menus": "boolean",
        "width": "integer",
        "height": "integer",
        "price": "integer",
        "feed_image": "integer",
        "product": "integer",
        "categories": "integer",
    }
    return [
        param(f.name, {"type": kinds.get(f.name, "string")}, "Exact match")
        for f in fields
        if f.column is not None or f.filter is not None
    ]


def item_schema(meta_keys: list[str]) -> dict:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "meta": {
                "type": "object",
                "properties": {
                    key: {"type": ["string", "null", "object", "array", "boolean"]}
                    for key in meta_keys
                },
            },
        },
        "additionalProperties": True,
    }


def listing_schema(item: dict) -> dict:
    return {
        "type": "object",
        "required": ["meta", "items"],
        "properties": {
            "meta": {
                "type": "object",
                "required": ["total_count"],
                "properties": {"total_count": {"type": "integer", "minimum": 0}},
            },
            "items": {"type": "array", "items": item},
        },
        "additionalProperties": False,
    }


def build() -> dict[str, Any]:
    limit_max = current_app.config["ALLY_API_LIMIT_MAX"]
    page_item = item_schema([f.name for f in PAGE_META_FIELDS])
    type_fields = {f.name: f for fields in TYPE_FIELDS.values() for f in fields}.values()
    page_params = [
        param("type", {"type": "string"}, f"One or more of: {', '.join(sorted(Page.types))}"),
        param("child_of", {"type": "string"}, "A page id or 'root'"),
        param("descendant_of", {"type": "string"}, "A page id or 'root'"),
        param("ancestor_of", {"type": "integer", "minimum": 0}),
        param("category", {"type": "string"}, "A category slug (blog posts in it)"),
        param("date__gte", {"type": "string", "format": "date"}),
        param("date__lte", {"type": "string", "format": "date"}),
        param("first_published_at__gte", {"type": "string", "format": "date-time"}),
        param("first_published_at__lte", {"type": "string", "format": "date-time"}),
        *common_listing_params(limit_max),
        *field_params([*PAGE_BODY_FIELDS, *PAGE_META_FIELDS, *type_fields]),
    ]
    paths: dict[str, Any] = {
        "/api/v2/pages/": {
            "get": {
                "operationId": "pages_listing",
                "summary": "Live pages",
                "parameters": page_params,
                "responses": responses(listing_schema(page_item)),
            }
        },
        "/api/v2/pages/{id}/": {
            "get": {
                "operationId": "pages_detail",
                "summary": "One live page with all its fields",
                "parameters": [
                    param("id", {"type": "integer", "minimum": 1}, where="path"),
                    param("fields", {"type": "string"}),
                    param("rich_text_format", {"type": "string", "enum": list(RICH_TEXT_FORMATS)}),
                ],
                "responses": responses(page_item, 404),
            }
        },
        "/api/v2/pages/find/": {
            "get": {
                "operationId": "pages_find",
                "summary": "Redirect to the page at html_path (or id)",
                "parameters": [
                    param("html_path", {"type": "string"}),
                    param("id", {"type": "integer"}),
                    param("fields", {"type": "string"}),
                ],
                "responses": {
                    "302": {"description": "Found"},
                    "404": {"description": "not found", "content": {JSON: {"schema": ERROR}}},
                },
            }
        },
        "/api/v2/page_preview/": {
            "get": {
                "operationId": "page_preview",
                "summary": "A draft, for a signed preview token",
                "parameters": [
                    param("token", {"type": "string"}),
                    param("content_type", {"type": "string"}),
                    param("fields", {"type": "string"}),
                ],
                "responses": {k: v for k, v in responses(page_item, 404).items() if k != "304"},
            }
        },
        "/api/v2/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}
                },
            }
        },
    }
    for name, endpoint in ENDPOINTS.items():
        item = item_schema([f.name for f in endpoint.fields.values() if f.meta])
        paths[f"/api/v2/{name}/"] = {
            "get": {
                "operationId": f"{name}_listing",
                "summary": f"All {name}",
                "parameters": [
                    *common_listing_params(limit_max),
                    *field_params(endpoint.fields.values()),
                ],
                "responses": responses(listing_schema(item)),
            }
        }
        paths[f"/api/v2/{name}/{{id}}/"] = {
            "get": {
                "operationId": f"{name}_detail",
                "summary": f"One of the {name}",
                "parameters": [
                    param("id", {"type": "integer", "minimum": 1}, where="path"),
                    param("fields", {"type": "string"}),
                ],
                "responses": responses(item, 404),
            }
        }
    paths["/api/v2/images/find/"] = {
        "get": {
            "operationId": "images_find",
            "summary": "Redirect to an image by id",
            "parameters": [param("id", {"type": "integer"})],
            "responses": {
                "302": {"description": "Found"},
                "404": {"description": "not found", "content": {JSON: {"schema": ERROR}}},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ALLY headless API",
            "version": "2",
            "description": "Wagtail API v2 compatible: the live pages, images, categories "
            "and products of the ALLY Essentials site.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"type": "string"}},
                    "additionalProperties": False,
                }
            }
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(build())
