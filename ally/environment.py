"""The Jinja environment ALLY's templates render in."""

import functools
import weakref
from types import FunctionType
from typing import Any

from flask.templating import Environment as FlaskEnvironment
from jinja2.compiler import CodeGenerator as JinjaCodeGenerator
from jinja2.compiler import optimizeconst
from jinja2.nodes import EvalContext
from jinja2.runtime import Context as JinjaContext
from markupsafe import Markup
from markupsafe import escape

try:  # MarkupSafe's own escaping of a str (C), which its public escape() wraps in Markup
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - a MarkupSafe that keeps it elsewhere

    def _escape_inner(text: str) -> str:
        return str(escape(text))


# ``Markup(text)`` for a ``str`` ALLY built and escaped itself (a block's or a meta line's
# HTML), made by ``str``'s own constructor: MarkupSafe 3's is Python (an ``__html__``
# lookup, the encoding arguments), called 30 times a post page, 1.1% of its instructions.
as_markup = functools.partial(str.__new__, Markup)


_KEPT: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def kept(env) -> dict:
    """A dict kept with ``env`` for what its templates give the same every time (a block's
    template looked up, an empty cart's widget rendered), for as long as ``env`` lives; a
    fresh one at every call while templates reload (development), so an edit shows on the
    next page."""
    if env.auto_reload:
        return {}
    memo = _KEPT.get(env)
    if memo is None:
        memo = _KEPT[env] = {}
    return memo


def escape_output(value: Any) -> str:
    """``value`` as an autoescaped ``{{ … }}`` prints it: the text MarkupSafe's ``escape``
    gives, as ``str`` rather than wrapped in ``Markup``.

    A printed value is only ever joined into the template's output, so the wrapper was
    thrown away at once, yet ``Markup.__new__`` and ``escape`` itself are Python: about
    150 calls on a listing page: 10% of its instructions, 5% of a post page's
    (``bench/RESULTS.md``). What is escaped, and how, stays MarkupSafe's: ``__html__`` is
    trusted, everything else is ``str()``-ed and escaped.
    """
    if type(value) is str:
        return _escape_inner(value)
    if type(value) is Markup:  # its own text: MarkupSafe's __html__ gives itself back
        return value
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class CodeGenerator(JinjaCodeGenerator):
    """Jinja's code generator, with the two commonest expressions of a template written
    inline: a listing page printed 150 values and read 140 attributes, each through a
    Python call (2.2% of its instructions; 0.9% of a post page's).

    - A printed value is escaped as :func:`escape_output` would, a ``str`` straight by
      MarkupSafe's C function. Templates whose escaping can change while they render
      (``{% autoescape %}`` with a variable) and unescaped ones print as Jinja writes them.
    - ``obj.name`` is Python's ``getattr`` with a default; only when that misses does
      Jinja's ``environment.getattr`` take over (an item, or undefined).

    Each expression's value is held in a name of the generated function (``:=``), so it
    is evaluated once, as Jinja evaluates it.
    """

    def _output_child_pre(self, node, frame, finalize) -> None:
        if not frame.eval_ctx.autoescape or frame.eval_ctx.volatile:
            return super()._output_child_pre(node, frame, finalize)
        self.write("(environment.escape_str(ally_out) if type(ally_out := ")
        if finalize.src is not None:
            self.write(finalize.src)

    def _output_child_post(self, node, frame, finalize) -> None:
        if not frame.eval_ctx.autoescape or frame.eval_ctx.volatile:
            return super()._output_child_post(node, frame, finalize)
        if finalize.src is not None:
            self.write(")")
        self.write(") is str else environment.escape_output(ally_out))")

    @optimizeconst
    def visit_Getattr(self, node, frame) -> None:
        if self.environment.is_async:
            return super().visit_Getattr(node, frame)
        self.write("(ally_attr if (ally_attr := getattr((ally_of := ")
        self.visit(node.node, frame)
        self.write(f"), {node.attr!r}, missing)) is not missing")
        self.write(f" else environment.getattr(ally_of, {node.attr!r}))")


class Context(JinjaContext):
    """Jinja's template context, calling a plain function that takes no context (``url_for``,
    ``static_url``, ``csrf_token``, ``post_meta``: 20 to 30 calls a page) without first
    asking its ``__call__`` and then itself whether it wants one: Jinja's ``call`` made each
    of those calls cost three times the function's own. Anything else, and a function
    marked ``pass_context`` and the like, goes through Jinja's ``call``.

    A context is made for every render and include (five or more a page), and Jinja's made
    a set of the template's globals' names in each, which only ``{% import %}`` reads: it
    is made when first read."""

    def __init__(self, environment, parent, name, blocks, globals=None):  # noqa: A002 - Jinja's
        self.parent = parent
        self.vars = {}
        self.environment = environment
        self.eval_ctx = EvalContext(environment, name)
        self.exported_vars = set()
        self.name = name
        self._globals = globals
        self.blocks = {block: [render] for block, render in blocks.items()} if blocks else {}

    @functools.cached_property
    def globals_keys(self) -> set[str]:
        return set() if self._globals is None else set(self._globals)

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        if type(__obj) is not FunctionType or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja's call answers it
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class Environment(FlaskEnvironment):
    """Flask's environment, giving each template its globals as one dict and printing
    with :func:`escape_output`.

    Jinja chains a template's globals onto the environment's, and every render (a page, a
    block's template) copies that chain into a fresh context key by key: 3% of a cold post
    page. A dict copies at C speed. The cost is Jinja's own rule made strict: globals added
    after a template has loaded are not seen by it; ALLY adds its globals while creating
    the app, before any template loads.
    """

    code_generator_class = CodeGenerator
    context_class = Context
    escape_output = staticmethod(escape_output)
    escape_str = staticmethod(_escape_inner)

    def make_globals(self, d):
        return {**self.globals, **(d or {})}
