"""ALLY's Jinja environment prints exactly what Jinja's own would, by a shorter path."""

import collections

import jinja2
import pytest
from flask import Blueprint
from flask import render_template_string
from flask.templating import _default_template_ctx_processor
from markupsafe import Markup

from ally import Ally
from ally.environment import as_markup
from ally.environment import escape_output

XSS = "<script>alert(\"x\")</script> & <img src=x onerror='a()'>"


class Html:
    """Something that renders itself, as a block's value does."""

    def __html__(self) -> str:
        return "<b>trusted</b>"


class Text:
    def __str__(self) -> str:
        return XSS


VALUES = [XSS, Markup("<i>safe</i>"), Html(), Text(), 42, 1.5, None, True, "", "café ✓"]
TEMPLATE = (
    "{% for v in values %}[{{ v }}]<a title='{{ v }}'>{% set kept %}{{ v }}{% endset %}"
    "{{ kept }}</a>{% endfor %}{% macro m(x) %}({{ x }}){% endmacro %}{{ m(values[0]) }}"
)


def test_pages_print_what_jinjas_own_environment_prints(app):
    stock = jinja2.Environment(autoescape=True).from_string(TEMPLATE)
    ours = app.jinja_env.from_string(TEMPLATE)

    printed = ours.render(values=VALUES)

    assert printed == stock.render(values=VALUES)
    assert "<script>" not in printed and "&lt;script&gt;alert(&#34;x&#34;)" in printed
    assert "<b>trusted</b>" in printed and "<i>safe</i>" in printed


def test_autoescaped_output_compiles_to_the_short_path(app):
    page = app.jinja_env.compile("{{ title }}", name="page.html", raw=True)
    text = app.jinja_env.compile("{{ title }}", name="feed.txt", raw=True)

    assert "environment.escape_str(ally_out) if type(ally_out := " in page
    assert "escape_" not in text  # not autoescaped: printed with str() as Jinja does


def test_a_template_that_switches_escaping_while_rendering_is_compiled_as_jinja_writes_it(app):
    source = "{% autoescape on_off %}{{ v }}{% endautoescape %}"
    code = app.jinja_env.compile(source, name="x.html", raw=True)
    template = app.jinja_env.from_string(source)

    assert "escape_" not in code
    assert template.render(on_off=True, v="<b>") == "&lt;b&gt;"
    assert template.render(on_off=False, v="<b>") == "<b>"


class Record:
    """Attributes as templates meet them: plain, a property, one that raises AttributeError
    (Jinja then tries an item), and an item only."""

    name = "<Melatonin>"

    def __init__(self):
        self.reads = 0

    @property
    def price(self):
        self.reads += 1
        return 2499

    @property
    def broken(self):
        raise AttributeError("broken")

    def __getitem__(self, key):
        return f"item {key}"


ATTRIBUTES = (
    "{{ r.name }}|{{ r.price }}|{{ r.broken }}|{{ d.key }}|{{ d.items is callable }}|"
    "{{ d.nested.deeper.deepest }}|{{ s.upper() }}|{{ seq.0 }}|{{ none.x is defined }}|"
    "{{ d.absent is defined }}|{{ make().name }}|{{ make().price }}"
)


def test_templates_read_attributes_as_jinjas_own_environment_does(app):
    made = []

    def make():
        made.append(1)
        return Record()

    def values():
        return {
            "r": Record(),
            "d": {"key": "<k>", "nested": {"deeper": {"deepest": "3 deep"}}},
            "s": "shout",
            "seq": ["first"],
            "none": None,
            "make": make,
        }

    stock = jinja2.Environment(autoescape=True).from_string(ATTRIBUTES).render(values())
    made.clear()
    context = values()
    printed = app.jinja_env.from_string(ATTRIBUTES).render(context)

    assert printed == stock
    assert printed.startswith("&lt;Melatonin&gt;|2499|item broken|&lt;k&gt;|True|3 deep|SHOUT|")
    assert context["r"].reads == 1 and len(made) == 2  # each expression evaluated once
    inline, fallback = app.jinja_env.compile("{{ a.b }}", raw=True).split(" else ", 1)
    assert "environment.getattr(" not in inline and "environment.getattr(" in fallback


def test_an_undefined_value_still_fails_loudly(app):
    with pytest.raises(jinja2.UndefinedError):
        app.jinja_env.get_template("errors/generic.html").render()


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_escape_output_is_markupsafes_escape_as_text(value):
    printed = escape_output(value)

    assert type(printed) in (str, Markup)
    assert printed == Markup.escape(value)


class Counter:
    """A callable object whose ``__call__`` takes the context, as Jinja allows."""

    @jinja2.pass_context
    def __call__(self, context, suffix):
        return f"{context['name']}{suffix}"


@jinja2.pass_context
def greet(context, greeting):
    return f"{greeting}, {context['name']}"


@jinja2.pass_environment
def environment_name(environment):
    return type(environment).__name__


def plain(*args, **kwargs):
    return f"{args}{sorted(kwargs.items())}"


def stops():
    raise StopIteration


CALLS = (
    "{% macro m(x) %}{{ plain(x, k=x) }}{% endmacro %}"
    "{{ plain(1, b=2) }}|{{ greet('Hi') }}|{{ counter('!') }}|{{ environment_name() }}|"
    "{% for name in ['Ann', 'Bo'] %}{{ greet('Yo') }}/{{ plain(name) }};{% endfor %}|"
    "{% set n = 3 %}{{ plain(n) }}|{{ stops() is defined }}|{{ m(1) }}"
)


def test_templates_call_functions_as_jinja_does(app):
    """Plain functions are called directly (``Context.call``); context-, environment- and
    class-callables, loops' variables, macros and a StopIteration behave as Jinja's."""
    functions = {
        "plain": plain,
        "greet": greet,
        "counter": Counter(),
        "environment_name": environment_name,
        "stops": stops,
        "name": "Cy",
    }
    stock = jinja2.Environment(autoescape=True).from_string(CALLS)
    ours = app.jinja_env.from_string(CALLS)

    printed = ours.render(functions)

    assert printed == stock.render(functions)
    assert "Hi, Cy|Cy!|Environment|" in printed and "/(&#39;Bo&#39;,)[];" in printed
    assert "|False|" in printed  # a StopIteration is undefined


@pytest.mark.parametrize("text", ["<b>built</b> &amp; escaped", Markup("<i>x</i>"), "", "café ✓"])
def test_as_markup_is_markup_of_the_text_as_given(text):
    made = as_markup(text)

    assert type(made) is Markup and made == Markup(text) == text
    assert str(escape_output(made)) == str(text)  # trusted as it is, not escaped again


def test_a_context_holds_what_jinjas_own_holds(app):
    template = app.jinja_env.get_template("pages/blog_page.html")
    ours = template.new_context({"title": "x"})
    theirs = jinja2.runtime.Context(
        app.jinja_env, ours.parent, template.name, template.blocks, template.globals
    )
    for name in ("parent", "vars", "name", "exported_vars", "globals_keys", "blocks"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.blocks and ours.globals_keys == set(app.jinja_env.globals)
    assert vars(ours.eval_ctx) == vars(theirs.eval_ctx)


def test_each_context_processor_runs_once_per_render_and_render_arguments_win():
    """Flask lists its default processor under every blueprint too; it runs once."""
    app, shop, calls = Ally(__name__), Blueprint("shop", __name__), collections.Counter()

    def counted(name, processor):
        def counting():
            calls[name] += 1
            return processor()

        return counting

    app.context_processor(counted("app", lambda: {"who": "app", "where": "app", "given": "app"}))
    shop.context_processor(counted("shop", lambda: {"where": "shop"}))
    page = "{{ who }} {{ where }} {{ given }} {{ request.path }}"
    shop.add_url_rule("/<given>", "page", lambda given: render_template_string(page, given=given))
    app.register_blueprint(shop)
    default = counted("default", _default_template_ctx_processor)  # the same one, as Flask's
    for processors in app.template_context_processors.values():
        processors[:] = [
            default if processor is _default_template_ctx_processor else processor
            for processor in processors
        ]
    client = app.test_client()

    for path in ("/first", "/second"):  # the second from the listed processors
        calls.clear()
        assert client.get(path).get_data(as_text=True) == f"app shop {path[1:]} {path}"
        assert calls == {"app": 1, "shop": 1, "default": 1}
    with app.app_context():  # no request: the app's own processors
        assert render_template_string("{{ who }} {{ where }}") == "app app"
