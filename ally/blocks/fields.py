"""Leaf blocks: text, rich text, URLs, choices, and choosers of database records."""

import re
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from ally import late
from ally import sanitize
from ally.environment import as_markup

from .base import Block
from .base import BlockValidationError

REQUIRED = "This field is required."
_SITE_LINK_RE = re.compile(r'href="(/(?!/)[^"]*)"')


class CharBlock(Block):
    """A single line of plain text (escaped on render)."""

    def __init__(self, *, max_length: int = 255, min_length: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length

    def get_default(self) -> Any:
        return self.default if self.default is not None else ""

    def to_python(self, raw: Any) -> Any:
        return self.bulk_to_python([raw])[0]

    def bulk_to_python(self, raws: list[Any]) -> list[Any]:
        return ["" if raw is None else raw for raw in raws]

    def clean(self, value: Any) -> str:
        if not isinstance(value, str):
            raise BlockValidationError("Enter text.")
        value = value.strip()
        if not value:
            if self.required:
                raise BlockValidationError(REQUIRED)
            return value
        if "\x00" in value:
            raise BlockValidationError("Null characters are not allowed.")
        if len(value) > self.max_length:
            raise BlockValidationError(
                f"Ensure this value has at most {self.max_length} characters (it has {len(value)})."
            )
        if len(value) < self.min_length:
            raise BlockValidationError(
                f"Ensure this value has at least {self.min_length} characters."
            )
        return value

    def get_searchable_text(self, value: Any) -> str:
        return value if isinstance(value, str) else ""

    def to_schema(self) -> dict[str, Any]:
        return {**super().to_schema(), "max_length": self.max_length}


class TextBlock(CharBlock):
    """Multi-line plain text."""

    kind = "text"

    def __init__(self, *, max_length: int = 5000, **kwargs):
        super().__init__(max_length=max_length, **kwargs)


class URLBlock(CharBlock):
    """A link target: http(s), mailto, or a site-relative path. Never ``javascript:``."""

    kind = "url"

    def __init__(self, *, max_length: int = 1024, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value and not is_safe_url(value):
            raise BlockValidationError(
                "Enter a valid URL: https://…, mailto:… or a path like /blog/."
            )
        return value


def is_safe_url(url: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"}:
        return bool(parts.netloc)
    if parts.scheme == "mailto":
        return "@" in parts.path
    return not parts.scheme and url.startswith("/") and not url.startswith("//")


class ChoiceBlock(Block):
    """One value out of ``choices`` (pairs of value and label)."""

    kind = "choice"

    def __init__(self, *, choices: list[tuple[Any, str]], **kwargs):
        super().__init__(**kwargs)
        self.choices = list(choices)

    def clean(self, value: Any) -> Any:
        valid = [choice for choice, _ in self.choices]
        # bool is an int in Python; True must not pass for 1.
        if isinstance(value, bool) or value not in valid:
            if value in (None, "") and self.required:
                raise BlockValidationError(REQUIRED)
            raise BlockValidationError(
                f"Select a valid choice. {value!r} is not one of the available choices."
            )
        return value

    def to_schema(self) -> dict[str, Any]:
        return {**super().to_schema(), "choices": [[v, label] for v, label in self.choices]}


class RichTextBlock(Block):
    """HTML from the editor, sanitised in ``clean`` and therefore trusted when rendered."""

    kind = "richtext"

    def __init__(self, *, inline: bool = False, max_length: int = 20000, **kwargs):
        super().__init__(**kwargs)
        self.inline = inline
        self.max_length = max_length

    def get_default(self) -> Any:
        return self.default if self.default is not None else ""

    def to_python(self, raw: Any) -> Any:
        return as_markup(raw) if isinstance(raw, str) else raw if raw is not None else Markup("")

    def get_prep_value(self, value: Any) -> Any:
        return str(value) if isinstance(value, str) else value

    def clean(self, value: Any) -> Markup:
        if not isinstance(value, str):
            raise BlockValidationError("Enter text.")
        if len(value) > self.max_length:
            raise BlockValidationError(
                f"Ensure this text has at most {self.max_length} characters."
            )
        cleaned = sanitize.clean_html(value, inline=self.inline)
        if self.required and not sanitize.html_to_text(cleaned):
            raise BlockValidationError(REQUIRED)
        return cleaned

    def render_basic(self, value: Any) -> Markup:
        # Text is all a stored value can render as: anything else (written around the
        # editor, which would refuse it) renders nothing rather than failing the page or
        # being trusted as HTML.
        return as_markup(value) if isinstance(value, str) else Markup("")

    def get_api_representation(self, value: Any, context: dict | None = None) -> Any:
        """Stored HTML; with ``rich_text_format=html``, site links made absolute for
        front-ends served from another domain."""
        html = self.get_prep_value(value)
        api = (context or {}).get("api")
        if (
            api is None
            or (context or {}).get("rich_text_format") != "html"
            or not isinstance(html, str)
        ):
            return html
        return _SITE_LINK_RE.sub(lambda m: f'href="{api.html_url(m.group(1))}"', html)

    def get_searchable_text(self, value: Any) -> str:
        return sanitize.html_to_text(value) if isinstance(value, str) else ""

    def to_schema(self) -> dict[str, Any]:
        return {**super().to_schema(), "inline": self.inline}


class Missing:
    """A reference to a record that no longer exists; falsy, and keeps its id for saving."""

    def __init__(self, pk: Any):
        self.pk = pk

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<Missing {self.pk!r}>"


class ChooserBlock(Block):
    """A reference to a database record, stored as its integer id."""

    kind = "chooser"
    model: Any = None
    noun = "item"

    def to_python(self, raw: Any) -> Any:
        return self.bulk_to_python([raw])[0]

    def bulk_to_python(self, raws: list[Any]) -> list[Any]:
        """Load every referenced record in one query (no N+1 however many blocks)."""
        models = late.models()  # the models import the blocks when they load
        is_id, loaded = models.base.is_id, models.sql.loaded
        ids = {raw for raw in raws if is_id(raw)}
        # Records the request already loaded (an API listing prefetches them) cost nothing.
        found = {pk: row for pk in ids if (row := loaded(self.model, pk)) is not None}
        missing = ids - set(found)
        if missing:
            session = late.extensions().db.session
            rows = session.scalars(models.base.by_ids(self.model), {"ids": sorted(missing)})
            found.update({row.id: row for row in rows})
        # Whatever else a stored body holds there (a string, a list) is missing, not an error.
        return [
            (found.get(raw) if is_id(raw) else None) or (Missing(raw) if raw is not None else None)
            for raw in raws
        ]

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return value.pk if isinstance(value, Missing) else getattr(value, "id", value)

    def clean(self, value: Any) -> Any:
        if isinstance(value, Missing):
            raise BlockValidationError(f"The {self.noun} with id {value.pk!r} does not exist.")
        if value is None:
            if self.required:
                raise BlockValidationError(f"Choose a {self.noun}.")
            return None
        return value


class ProductChooserBlock(ChooserBlock):
    noun = "product"

    @property
    def model(self):
        return late.models().Product


class ImageChooserBlock(ChooserBlock):
    noun = "image"

    @property
    def model(self):
        return late.models().Image
