"""The block contract every block follows, named as in Wagtail so its docs apply.

``to_python(raw)`` turns stored JSON into a value; ``get_prep_value(value)`` turns it back;
``clean(value)`` validates (and sanitises) or raises :class:`BlockValidationError`;
``render(value)`` returns Markup from ``blocks/<name>.html`` when the site has that
template, else from the block's ``render_html`` (Wagtail's ``render_basic``, given the
context); ``get_api_representation(value)`` is what the JSON API serves.
"""

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app
from jinja2 import Environment
from jinja2 import Template
from jinja2 import TemplateNotFound
from markupsafe import Markup
from markupsafe import escape

from ally.environment import as_markup
from ally.environment import kept


class BlockValidationError(ValueError):
    """A validation failure, possibly nested: by child name (struct) or index (list, stream)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        block_errors: dict[Any, "BlockValidationError"] | None = None,
        non_block_errors: list[str] | None = None,
    ):
        self.messages = [message] if message else []
        self.messages += non_block_errors or []
        self.block_errors = block_errors or {}
        super().__init__(message or "Validation error")

    def as_json_data(self) -> dict[str, Any]:
        """The shape the editor and the API both read: ``messages`` and ``blockErrors``."""
        data: dict[str, Any] = {}
        if self.messages:
            data["messages"] = self.messages
        if self.block_errors:
            data["blockErrors"] = {
                str(key): error.as_json_data() for key, error in self.block_errors.items()
            }
        return data

    def flatten(self, prefix: str = "") -> list[str]:
        """One line per leaf error, with its path, for command-line and log messages."""
        lines = [f"{prefix}: {m}" if prefix else m for m in self.messages]
        for key, error in self.block_errors.items():
            lines += error.flatten(f"{prefix}.{key}" if prefix else str(key))
        return lines


class Block:
    """Base of every block. Options are plain class attributes or constructor keywords."""

    label: str = ""
    icon: str = "placeholder"
    kind: str = "field"

    def __init__(
        self,
        *,
        required: bool = True,
        label: str | None = None,
        default: Any = None,
        help_text: str = "",
    ):
        self.required = required
        self.label = label or self.label
        self.default = default
        self.help_text = help_text
        self.name = ""

    def set_name(self, name: str) -> None:
        self.name = name
        self.label = self.label or name.replace("_", " ").capitalize()

    def get_default(self) -> Any:
        return self.default

    def to_python(self, raw: Any) -> Any:
        return raw

    def bulk_to_python(self, raws: list[Any]) -> list[Any]:
        """Convert many raw values at once; chooser blocks override this to query once.

        A block that stores its values as they are (the base ``to_python``) copies the
        list: a call per value was most of converting a post's body.
        """
        if type(self).to_python is Block.to_python:
            return list(raws)
        return [self.to_python(raw) for raw in raws]

    def get_prep_value(self, value: Any) -> Any:
        return value

    def clean(self, value: Any) -> Any:
        return value

    def render(self, value: Any, context: dict | None = None) -> Markup:
        # The app itself, not its proxy: an attribute read through one costs as much again.
        return self.renderer(current_app._get_current_object().jinja_env)(value, context or {})

    def renderer(self, env: Environment) -> Callable[[Any, dict], Markup]:
        """What renders this block's values in ``env``, called as ``(value, context)``:
        the site's ``blocks/<name>.html`` when it has one, else :meth:`render_html`.

        A stream asks once per render for each type of block it holds, then calls the
        answer for each child, rather than each child's ``render``: looking up the app and
        the template per child cost a post page 3.5% of its instructions. So a block
        changes how it renders here or in ``render_html``, not by overriding ``render``.
        """
        template = _block_template(env, self.name)
        if template is None:
            return self.render_html
        return functools.partial(_render_template, template, self)

    def render_html(self, value: Any, context: dict) -> Markup:
        """The HTML when no ``blocks/<name>.html`` overrides it.

        Blocks whose markup is a line or two say it here, in Python: a template per block
        cost a post page a tenth of its time, dozens of blocks each rendered in a context
        of its own. ``context`` holds what the stream gives (``block_id``).
        """
        return as_markup(f'<div class="block block-{self.name}">{self.render_basic(value)}</div>')

    def render_basic(self, value: Any) -> Markup:
        return escape(value if value is not None else "")

    def get_api_representation(self, value: Any, context: dict | None = None) -> Any:
        return self.get_prep_value(value)

    def get_searchable_text(self, value: Any) -> str:
        return ""

    def to_schema(self) -> dict[str, Any]:
        """Describe the block for the editor (names, labels, choices, limits)."""
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "icon": self.icon,
            "required": self.required,
            "default": self.get_prep_value(self.get_default()),
            "help_text": self.help_text,
        }


def _render_template(template: Template, block: Block, value: Any, context: dict) -> Markup:
    return as_markup(template.render({"value": value, "block": block, **context}))


def _block_template(env: Environment, name: str) -> Template | None:
    """``blocks/<name>.html``, or None when the site has no such template; looked up once
    per environment (:func:`~ally.environment.kept`), since every page renders blocks."""
    memo, key = kept(env), f"blocks/{name}.html"
    if key not in memo:
        try:
            memo[key] = env.get_template(key)
        except TemplateNotFound:
            memo[key] = None
    return memo[key]


def collect_child_blocks(cls: type) -> dict[str, Block]:
    """A composite class's blocks: inherited ones, then its own in class-body order (PEP 520).

    Each child learns its name here, which is also its stored ``type`` and template name.
    """
    children = dict(getattr(cls, "child_blocks", {}))
    for name, value in vars(cls).items():
        if isinstance(value, Block):
            value.set_name(name)
            children[name] = value
    return children
