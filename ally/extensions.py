"""Flask extensions, created unbound; ``create_app`` binds them with ``init_app``.

Flask-Migrate is not here: ``create_app`` binds it only where migrations run (the CLI and
tests), so web workers never load Alembic (see ``ally.register_migrations``)."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy

from ally.database import ENGINE_OPTIONS
from ally.database import Session
from ally.models.base import Base
from ally.sessions import CSRFProtect

db = SQLAlchemy(
    model_class=Base, session_options={"class_": Session}, engine_options=ENGINE_OPTIONS
)
csrf = CSRFProtect()
# The page cache's store (see ally.cache); its type comes from ALLY_CACHE_URL.
cache = Cache()
login_manager = LoginManager()
# Limits are declared where they apply (the login view); storage is RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)
