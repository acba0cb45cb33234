"""The headless API at ``/api/v2/``, shaped like Wagtail's API v2."""

from . import openapi
from .views import bp

__all__ = ["bp", "openapi"]
