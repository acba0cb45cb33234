"""Blocks: the StreamField-style content model shared by editor, import, site and API."""

from .base import Block
from .base import BlockValidationError
from .library import BodyBlock
from .stream import StreamBlock
from .stream import StreamValue

__all__ = ["Block", "BlockValidationError", "BodyBlock", "StreamBlock", "StreamValue"]
