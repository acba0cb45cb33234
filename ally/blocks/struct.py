"""StructBlock: a fixed set of named child blocks, stored as a JSON object."""

from typing import Any
from typing import ClassVar

from markupsafe import Markup

from .base import Block
from .base import BlockValidationError
from .base import collect_child_blocks


class StructValue(dict):
    """A struct's values by child name; renders itself through its block's template."""

    def __init__(self, block: "StructBlock", values: dict[str, Any]):
        super().__init__(values)
        self.block = block

    def __html__(self) -> str:
        return self.block.render(self)


class StructBlock(Block):
    """Declare children as class attributes; their order is the class body's (PEP 520)."""

    kind = "struct"
    child_blocks: ClassVar[dict[str, Block]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.child_blocks = collect_child_blocks(cls)

    def get_default(self) -> StructValue:
        return StructValue(self, {n: b.get_default() for n, b in self.child_blocks.items()})

    def to_python(self, raw: Any) -> StructValue:
        return self.bulk_to_python([raw])[0]

    def bulk_to_python(self, raws: list[Any]) -> list[StructValue]:
        raws = [raw if isinstance(raw, dict) else {} for raw in raws]
        columns = {
            name: child.bulk_to_python(
                [raw[name] if name in raw else child.get_default() for raw in raws]
            )
            for name, child in self.child_blocks.items()
        }
        return [
            StructValue(self, {name: columns[name][i] for name in self.child_blocks})
            for i in range(len(raws))
        ]

    def get_prep_value(self, value: Any) -> dict[str, Any]:
        value = value or {}
        return {n: b.get_prep_value(value.get(n)) for n, b in self.child_blocks.items()}

    def clean(self, value: Any) -> StructValue:
        cleaned, errors = {}, {}
        for name, child in self.child_blocks.items():
            try:
                cleaned[name] = child.clean(value.get(name))
            except BlockValidationError as error:
                errors[name] = error
        if errors:
            raise BlockValidationError(block_errors=errors)
        return StructValue(self, cleaned)

    def render_basic(self, value: Any) -> Markup:
        return Markup("").join(
            Markup("<div>{}</div>").format(child.render_basic(value.get(name)))
            for name, child in self.child_blocks.items()
        )

    def get_api_representation(self, value: Any, context: dict | None = None) -> dict[str, Any]:
        value = value or {}
        return {
            name: child.get_api_representation(value.get(name), context)
            for name, child in self.child_blocks.items()
        }

    def get_searchable_text(self, value: Any) -> str:
        texts = (b.get_searchable_text(value.get(n)) for n, b in self.child_blocks.items())
        return " ".join(t for t in texts if t)

    def to_schema(self) -> dict[str, Any]:
        return {
            **super().to_schema(),
            "children": [child.to_schema() for child in self.child_blocks.values()],
        }
