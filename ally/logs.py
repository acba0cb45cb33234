"""Logs on stdout, one line per record, each with the request id (gunicorn-friendly)."""

import logging
import sys

from flask import Flask
from flask import has_request_context
from flask import request

from ally.ops import REQUEST_ID

FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request.environ.get(REQUEST_ID, "-") if has_request_context() else "-"
        return True


def init_app(app: Flask) -> None:
    if app.testing:
        return  # pytest captures logging itself
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["ALLY_LOG_LEVEL"])
    app.logger.propagate = False
