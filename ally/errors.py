"""App-level error pages: JSON under ``/api/`` and for ``*.js`` endpoints, HTML elsewhere."""

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from ally.extensions import db


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".js")


def handle_http_error(error: HTTPException):
    if wants_json():
        return jsonify(message=error.description), error.code
    template = f"errors/{error.code}.html" if error.code in (404, 500) else "errors/generic.html"
    return render_template(template, error=error), error.code


def handle_server_error(error: InternalServerError):
    """Roll back the failed unit of work first, so the error page can still query."""
    db.session.rollback()
    return handle_http_error(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    # Flask wraps any unhandled exception in InternalServerError (outside TESTING, where it
    # propagates so a test fails loudly instead of seeing a 500 page).
    app.register_error_handler(InternalServerError, handle_server_error)
