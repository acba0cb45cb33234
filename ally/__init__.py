"""ALLY: a Flask CMS for the ALLY Essentials shop blog."""

from collections.abc import Callable
from collections.abc import Mapping

import click
import sqlalchemy as sa
from flask import Flask
from flask import has_request_context
from flask import request
from flask_login import current_user
from jinja2 import StrictUndefined

from ally import config as config_module
from ally.environment import Environment
from ally.sessions import SessionInterface


class Ally(Flask):
    """Flask, rendering in ALLY's Jinja environment (see :mod:`ally.environment`)."""

    jinja_environment = Environment

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_callables: dict = {}
        self._context_processors: dict[str | None, tuple[Callable, ...]] = {}  # by blueprint

    def ensure_sync(self, func: Callable) -> Callable:
        """Flask's answer for ``func``, kept: whether a view or hook is a coroutine function
        never changes, and Flask asks it of every hook and the view on every request (a
        dozen or more ``inspect`` calls, 1% of a cold page and 6% of a request that reads
        nothing, ``bench/RESULTS.md``). The callables are the app's registered ones."""
        try:
            return self._sync_callables[func]
        except KeyError:
            sync = self._sync_callables[func] = super().ensure_sync(func)
            return sync
        except TypeError:  # unhashable: asked afresh each time
            return super().ensure_sync(func)

    def update_template_context(self, context: dict) -> None:
        """Flask's, running each context processor once per render.

        Flask gives every blueprint its default processor (``g`` and ``request``) as it gives
        the app, so a page of the ``site`` blueprint ran it twice, and Flask walked the
        blueprint chain again for every render. The processors that apply to a blueprint are
        listed once, from the first request on, when Flask refuses new ones. The values
        passed to ``render_template`` still win over the processors'.
        """
        reading = request._get_current_object() if has_request_context() else None
        blueprint = reading.blueprint if reading is not None else None
        processors = self._context_processors.get(blueprint)
        if processors is None:
            processors = self._processors_for(reading.blueprints if reading is not None else [])
            if self._got_first_request:  # none can be added from now on
                self._context_processors[blueprint] = processors
        given = context.copy()
        for processor in processors:
            context.update(processor())
        context.update(given)

    def _processors_for(self, chain: list[str]) -> tuple[Callable, ...]:
        listed = []
        for name in (None, *reversed(chain)):
            for processor in self.template_context_processors.get(name, ()):
                if processor not in listed:
                    listed.append(processor)
        return tuple(self.ensure_sync(processor) for processor in listed)


def create_app(config: Mapping | None = None) -> Flask:
    """Create the app: environment config, then ``config`` on top (tests pass a dict)."""
    app = Ally(__name__, instance_relative_config=True)
    app.config.update(config_module.from_environ(config_module.environ(), app.instance_path))
    app.config.update(config or {})
    if app.testing:
        app.jinja_env.undefined = StrictUndefined
    app.json.sort_keys = False  # API shapes (Wagtail v2, Shopify) have a documented key order
    app.session_interface = SessionInterface()
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    from ally import cache as page_cache
    from ally import database
    from ally.extensions import csrf
    from ally.extensions import db
    from ally.extensions import limiter
    from ally.extensions import login_manager
    from ally.models import User
    from ally.models.base import enable_sqlite_foreign_keys

    db.init_app(app)
    database.init_app(app, db)
    for engine in database.engines(app):
        sa.event.listen(engine, "connect", enable_sqlite_foreign_keys)
    register_migrations(app)
    csrf.init_app(app)
    # No context processor: it would load the user (and run session protection) for every
    # template, public pages included. Templates get the lazy ``current_user`` proxy instead.
    login_manager.init_app(app, add_context_processor=False)
    # Its remember-me cookie is set and cleared only where authors log in and out (ALLY
    # leaves REMEMBER_COOKIE_REFRESH_EACH_REQUEST off): 0.5% of every other request.
    to_blueprint(login_manager, "admin", app.after_request_funcs)
    app.jinja_env.globals["current_user"] = current_user
    login_manager.user_loader(User.load)
    login_manager.login_view = "admin.login"
    login_manager.session_protection = "strong"
    register_limiter(app, limiter)
    page_cache.init_app(app)


def register_limiter(app: Flask, limiter) -> None:
    """Flask-Limiter, its hooks where ALLY's limits are: the admin's login view.

    Its decorators check a view's limits when the view runs. The app-wide check it adds for
    default limits (ALLY has none) cost every request 4% of its Python, and is dropped; its
    response headers and per-request bookkeeping, another 1.4% of a page, run for the admin
    blueprint only (a limit declared elsewhere would still be enforced: its headers are off
    and its bookkeeping lives and dies with the request). Each hook is looked up by its
    owner (:func:`to_blueprint`).
    """
    limiter.init_app(app)
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    to_blueprint(limiter, "admin", app.after_request_funcs, app.teardown_request_funcs)


def to_blueprint(owner: object, blueprint: str, *registries: dict) -> None:
    """Move ``owner``'s app-wide hook in each of ``registries`` (``app.after_request_funcs``
    and the like) to ``blueprint``'s requests, for an extension whose hook has work only
    there. Each must be found exactly once: a missing one fails loudly if the extension
    changes how it registers them.
    """
    for hooks in registries:
        (hook,) = [hook for hook in hooks[None] if _bound_to(hook, owner)]
        hooks[None].remove(hook)
        hooks.setdefault(blueprint, []).append(hook)


def _bound_to(hook: Callable, owner: object) -> bool:
    """Whether ``hook`` is a method of ``owner``, bound or through ``functools.partial``."""
    args = getattr(hook, "args", ())
    return getattr(hook, "__self__", None) is owner or (bool(args) and args[0] is owner)


def register_migrations(app: Flask) -> None:
    """Flask-Migrate where schema commands run: the ``flask`` CLI, and tests.

    It brings Alembic, Mako and Pygments, about 9 MB per process; a gunicorn worker never
    migrates, so it never loads them (worker memory is a production target).
    """
    if not (app.testing or click.get_current_context(silent=True)):
        return
    from flask_migrate import Migrate

    from ally.extensions import db

    Migrate(app, db, compare_type=True, render_as_batch=True)


def register_blueprints(app: Flask) -> None:
    from ally.admin import bp as admin_bp
    from ally.api import bp as api_bp
    from ally.cart import bp as cart_bp
    from ally.ops import bp as ops_bp
    from ally.site import bp as site_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(cart_bp)
    app.register_blueprint(ops_bp)
    # The site blueprint owns the catch-all page route; Werkzeug ranks it below every
    # fixed rule anyway, but registering it last keeps the intent visible.
    app.register_blueprint(site_bp)


def register_error_handlers(app: Flask) -> None:
    from ally import errors
    from ally import logs
    from ally import ops

    errors.init_app(app)
    logs.init_app(app)
    ops.init_app(app)


def register_cli(app: Flask) -> None:
    from ally import cli

    cli.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from ally import assets
    from ally import templating

    templating.init_app(app)
    assets.init_app(app)
