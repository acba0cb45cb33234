"""The admin site at ``/admin/``: accounts, the page explorer and block editor, revisions,
images, products, categories, subscribers and users."""

from . import auth
from . import catalog
from . import explorer
from . import images
from . import pages
from . import people
from . import revisions
from .base import bp

__all__ = ["auth", "bp", "catalog", "explorer", "images", "pages", "people", "revisions"]
