"""The reader-facing site: the page tree, listings, search, feeds and subscriptions."""

from . import seo
from . import subscribe
from .views import bp

__all__ = ["bp", "seo", "subscribe"]
