"""gunicorn settings, read from the environment so ops configure ALLY in one place."""

import gc
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# The access log carries the request id ALLY puts on every response (X-Request-ID).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s] "%(a)s"'
errorlog = "-"
# No control socket: several instances (run, bench, tests) may share one machine.
control_socket_disable = True


def post_worker_init(worker):
    """Hand what loading the app made (about 108,000 objects: modules, SQLAlchemy's mappers,
    Jinja's environment) to the collector's permanent generation, once the worker has it.

    They live as long as the worker, yet each full collection walked them all: one every
    thousand requests or so, stopping the worker for about 45 ms, with the requests queued
    behind it. Measured in process on a post page: the collector's time went from 53 to
    2 µs per request.
    """
    gc.freeze()
