"""Modules that import the models, for the models and blocks to use: imported at first use,
once.

``ally.extensions`` and ``ally.cache`` import the models, and the models the blocks, so
the models and blocks reach those at call time. A function-level import runs Python's
import machinery at every call, about 8,000 instructions for a module (asking it for the
``__path__`` it lacks formats an ``AttributeError``), and a post page made 19 of them: 4%
of its instructions. Code on a request's path asks here instead; code that runs once (the
CLI, the admin's saves) may import where it stands.
"""

import functools
from types import ModuleType


@functools.cache
def extensions() -> ModuleType:
    """``ally.extensions`` (``db``, ``cache``, ...)."""
    from ally import extensions

    return extensions


@functools.cache
def cache_tags() -> ModuleType:
    """``ally.cache.tags``: what a render depends on and records."""
    from ally.cache import tags

    return tags


@functools.cache
def models() -> ModuleType:
    """``ally.models``, for the blocks (which the models import)."""
    import ally.models

    return ally.models
