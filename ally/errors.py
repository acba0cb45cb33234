"""App-level error pages: JSON under ``/api/`` and for ``*.js`` endpoints, HTML elsewhere."""

import contextlib

from flask import Flask
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError
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


def handle_database_down(error: Exception):
    """The database went away: a designed 503, and the pool reconnects on its own later.

    The pool replaces dead connections on the next checkout
    (:func:`ally.database.replace_if_hung_up`), so no restart is needed once the database
    is back.
    """
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    current_app.logger.error("database unavailable: %s", error.__class__.__name__)
    message = "The site is briefly unavailable. Please try again in a moment."
    if wants_json():
        response = jsonify(message=message)
    else:
        response = current_app.response_class(
            render_template("errors/503.html"), mimetype="text/html"
        )
    response.status_code = 503
    response.headers["Retry-After"] = "30"
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    # Flask wraps any unhandled exception in InternalServerError (outside TESTING, where it
    # propagates so a test fails loudly instead of seeing a 500 page).
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InterfaceError, handle_database_down)
