"""StreamBlock: an ordered mix of block types, stored as Wagtail's StreamField JSON.

Storage: ``[{"type": "<name>", "value": <prep value>, "id": "<uuid4>"}]``. Ids are filled in
when missing, so editors and headless clients can key rows by them.
"""

import uuid
from collections.abc import Callable
from typing import Any
from typing import ClassVar

from flask import current_app
from markupsafe import Markup

from ally.environment import as_markup

from .base import Block
from .base import BlockValidationError
from .base import collect_child_blocks


class StreamChild:
    """One block in a stream. ``block`` is None for a type this stream does not know."""

    __slots__ = ("block", "value", "id", "block_type")

    def __init__(self, block: Block | None, value: Any, id: str | None, block_type: str = ""):
        self.block = block
        self.value = value
        self.id = id or str(uuid.uuid4())
        self.block_type = block.name if block else block_type

    def render(self, context: dict | None = None) -> Markup:
        if self.block is None:
            return Markup("")
        return self.block.render(self.value, {"block_id": self.id, **(context or {})})

    def __html__(self) -> str:
        return self.render()

    def get_prep_value(self) -> dict[str, Any]:
        value = self.block.get_prep_value(self.value) if self.block else self.value
        return {"type": self.block_type, "value": value, "id": self.id}


class StreamValue(list):
    """The children of a stream, in order; renders as the concatenation of their templates."""

    def __init__(self, block: "StreamBlock", children: list[StreamChild]):
        super().__init__(children)
        self.block = block

    def render(self, context: dict | None = None) -> Markup:
        """The children's HTML, one per line; a child of a type the stream does not know
        renders nothing. Each block type's renderer is looked up once (``Block.renderer``),
        and each child's HTML, Markup already, is joined as text rather than escaped again.
        """
        env = current_app._get_current_object().jinja_env
        renderers: dict[Block, Callable[[Any, dict], Markup]] = {}
        parts, context = [], context or {}
        for child in self:
            block = child.block
            if block is None:
                continue
            render = renderers.get(block)
            if render is None:
                render = renderers[block] = block.renderer(env)
            parts.append(render(child.value, {"block_id": child.id, **context}))
        return as_markup("\n".join(parts))

    def __html__(self) -> str:
        return self.render()


class StreamBlock(Block):
    """Declare the allowed block types as class attributes, in menu order."""

    kind = "stream"
    child_blocks: ClassVar[dict[str, Block]] = {}
    min_num: ClassVar[int] = 0
    max_num: ClassVar[int] = 500

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.child_blocks = collect_child_blocks(cls)

    def get_default(self) -> StreamValue:
        return StreamValue(self, [])

    def to_python(self, raw: Any) -> StreamValue:
        """Build children, converting each block type's values in one batch."""
        items = [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []
        by_type: dict[Any, list[int]] = {}
        for index, item in enumerate(items):
            by_type.setdefault(item.get("type"), []).append(index)
        children: list[Any] = [None] * len(items)
        for block_type, indexes in by_type.items():
            block = self.child_blocks.get(block_type)
            values = [items[i].get("value") for i in indexes]
            if block is not None:
                values = block.bulk_to_python(values)
            for i, value in zip(indexes, values, strict=True):
                children[i] = StreamChild(block, value, _id(items[i]), str(block_type))
        return StreamValue(self, children)

    def get_prep_value(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, StreamValue):
            value = self.to_python(value)
        return [child.get_prep_value() for child in value]

    def clean(self, value: StreamValue) -> StreamValue:
        cleaned, errors = [], {}
        for index, child in enumerate(value):
            if child.block is None:
                errors[index] = BlockValidationError(f"Unknown block type {child.block_type!r}.")
                continue
            try:
                cleaned.append(StreamChild(child.block, child.block.clean(child.value), child.id))
            except BlockValidationError as error:
                errors[index] = error
        non_block = []
        if len(value) < self.min_num:
            non_block.append(f"Add at least {self.min_num} block(s).")
        if len(value) > self.max_num:
            non_block.append(f"Use at most {self.max_num} blocks.")
        if errors or non_block:
            raise BlockValidationError(block_errors=errors, non_block_errors=non_block)
        return StreamValue(self, cleaned)

    def render(self, value: StreamValue, context: dict | None = None) -> Markup:
        return value.render(context)

    def get_api_representation(self, value: Any, context: dict | None = None) -> list:
        return [
            {
                "type": child.block_type,
                "value": child.block.get_api_representation(child.value, context),
                "id": child.id,
            }
            for child in value
            if child.block is not None
        ]

    def get_searchable_text(self, value: Any) -> str:
        texts = (c.block.get_searchable_text(c.value) for c in value or [] if c.block)
        return " ".join(t for t in texts if t)

    def to_schema(self) -> dict[str, Any]:
        return {
            **super().to_schema(),
            "children": [child.to_schema() for child in self.child_blocks.values()],
        }


def _id(item: dict) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None
