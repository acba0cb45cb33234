"""ListBlock: a list of values of one child block, stored as a plain JSON list."""

from typing import Any

from markupsafe import Markup

from ally.environment import as_markup
from ally.environment import escape_output

from .base import Block
from .base import BlockValidationError


class ListValue(list):
    def __init__(self, block: "ListBlock", values):
        super().__init__(values)
        self.block = block

    def __html__(self) -> str:
        return self.block.render(self)


class ListBlock(Block):
    """Items of ``child_block``; reads Wagtail's ``{"type": "item", "value"}`` items too."""

    kind = "list"

    def __init__(
        self,
        child_block: Block,
        *,
        ordered: bool = False,
        min_num: int = 1,
        max_num: int = 100,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.child_block = child_block
        self.child_block.set_name("item")
        self.ordered = ordered
        self.min_num = min_num
        self.max_num = max_num

    def get_default(self) -> ListValue:
        return ListValue(self, [])

    def to_python(self, raw: Any) -> ListValue:
        items = raw if isinstance(raw, list) else []
        items = [_unwrap_item(item) for item in items]
        return ListValue(self, self.child_block.bulk_to_python(items))

    def get_prep_value(self, value: Any) -> list:
        return [self.child_block.get_prep_value(item) for item in value or []]

    def clean(self, value: Any) -> ListValue:
        if not isinstance(value, list):
            raise BlockValidationError("Enter a list of items.")
        cleaned, errors = [], {}
        for index, item in enumerate(value):
            try:
                cleaned.append(self.child_block.clean(item))
            except BlockValidationError as error:
                errors[index] = error
        non_block = []
        if len(value) < self.min_num:
            non_block.append(f"Add at least {self.min_num} item{'s' if self.min_num > 1 else ''}.")
        if len(value) > self.max_num:
            non_block.append(f"Use at most {self.max_num} items.")
        if errors or non_block:
            raise BlockValidationError(block_errors=errors, non_block_errors=non_block)
        return ListValue(self, cleaned)

    def render_html(self, value: Any, context: dict) -> Markup:
        """``<ul>`` (``<ol>`` when ``ordered``), an ``<li>`` per item."""
        tag = "ol" if self.ordered else "ul"
        items = "".join(f"\n  <li>{escape_output(item)}</li>" for item in value)
        return as_markup(f'<{tag} class="block-list">{items}\n</{tag}>')

    def get_api_representation(self, value: Any, context: dict | None = None) -> list:
        return [self.child_block.get_api_representation(item, context) for item in value or []]

    def get_searchable_text(self, value: Any) -> str:
        return " ".join(self.child_block.get_searchable_text(item) for item in value or [])

    def to_schema(self) -> dict[str, Any]:
        return {
            **super().to_schema(),
            "child": self.child_block.to_schema(),
            "min_num": self.min_num,
            "max_num": self.max_num,
        }


def _unwrap_item(item: Any) -> Any:
    if isinstance(item, dict) and item.get("type") == "item" and "value" in item:
        return item["value"]
    return item
