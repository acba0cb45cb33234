"""ALLY's models, split by domain.

Dependencies point one way: ``base`` ← ``users``, ``media``, ``blog``, ``site`` ←
``commerce`` ← ``references`` ← ``pages`` ← ``page_types`` (which also uses
:mod:`ally.blocks`) ← ``cards`` (the posts listings show; the home page's are read when
it renders). Import models from here.
"""

from .audit import AuditEntry
from .base import Base
from .base import utcnow
from .blog import Category
from .blog import post_categories
from .commerce import Product
from .media import Image
from .page_types import BlogIndexPage
from .page_types import BlogPage
from .page_types import HomePage
from .page_types import PromoPage
from .page_types import StandardPage
from .pages import Page
from .pages import PageRevision
from .pages import Route
from .references import page_products
from .site import Redirect
from .site import Subscriber
from .users import Role
from .users import User

__all__ = [
    "AuditEntry",
    "Base",
    "BlogIndexPage",
    "BlogPage",
    "Category",
    "HomePage",
    "Image",
    "Page",
    "PageRevision",
    "Product",
    "PromoPage",
    "Redirect",
    "Role",
    "Route",
    "StandardPage",
    "Subscriber",
    "User",
    "page_products",
    "post_categories",
    "utcnow",
]
