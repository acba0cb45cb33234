"""The shopper's cart: pure domain in ``cart.py``, HTTP in ``views.py``."""

from .views import bp
from .views import cart_widget
from .views import checkout_url

__all__ = ["bp", "cart_widget", "checkout_url"]
