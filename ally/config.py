"""Configuration, read once from the environment when the app is created.

Every variable ALLY understands is listed in :func:`from_environ`; nothing reads
``os.environ`` anywhere else, and nothing reads it at import time.
"""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

OFF = frozenset({"off", "0", "false", "no"})


class ConfigError(RuntimeError):
    """Raised when the environment asks for something unsafe or impossible."""


def from_environ(env: Mapping[str, str], instance_path: str) -> dict:
    """Build the Flask config mapping from ``env``.

    ``ALLY_ENV=production`` refuses to start without an explicit ``SECRET_KEY`` and
    ``DATABASE_URL``: a random per-process key would log users out on every restart and
    break sessions across gunicorn workers, and SQLite is not the production database.
    """
    instance = Path(instance_path)
    ally_env = env.get("ALLY_ENV", "development")
    if ally_env == "production":
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not env.get(name)]
        if missing:
            raise ConfigError(f"ALLY_ENV=production needs {', '.join(missing)} in the environment")
    return {
        "ALLY_ENV": ally_env,
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'ally.db'}",
        # No pool_pre_ping: ally.database replaces hung-up connections without a round trip.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "ALLY_SITE_URL": env.get("ALLY_SITE_URL", "").rstrip("/"),
        "ALLY_SITE_NAME": env.get("ALLY_SITE_NAME", "ALLY Essentials"),
        "ALLY_MEDIA_DIR": env.get("ALLY_MEDIA_DIR") or str(instance / "media"),
        "ALLY_FREE_SHIPPING_CENTS": int(env.get("ALLY_FREE_SHIPPING_CENTS", "5000")),
        "ALLY_CURRENCY": env.get("ALLY_CURRENCY", "USD"),
        "ALLY_API_LIMIT_MAX": int(env.get("ALLY_API_LIMIT_MAX", "20")),
        "ALLY_SUBSCRIBE_CODE": env.get("ALLY_SUBSCRIBE_CODE", "ALLY15"),
        "ALLY_CHECKOUT_URL": env.get("ALLY_CHECKOUT_URL", ""),
        "ALLY_TIME_ZONE": env.get("ALLY_TIME_ZONE", "America/New_York"),
        "ALLY_IMAGE_MAX_BYTES": int(env.get("ALLY_IMAGE_MAX_BYTES", str(10 * 1024 * 1024))),
        "ALLY_POSTS_PER_PAGE": int(env.get("ALLY_POSTS_PER_PAGE", "10")),
        "ALLY_CORS_ORIGINS": [
            o.strip() for o in env.get("ALLY_CORS_ORIGINS", "").split(",") if o.strip()
        ],
        "ALLY_PREVIEW_TOKEN_MAX_AGE": int(env.get("ALLY_PREVIEW_TOKEN_MAX_AGE", "3600")),
        "ALLY_HEADLESS_PREVIEW_URL": env.get("ALLY_HEADLESS_PREVIEW_URL", ""),
        "ALLY_PROXY_FIX": int(env.get("ALLY_PROXY_FIX", "0")),
        "ALLY_LOG_LEVEL": env.get("ALLY_LOG_LEVEL", "INFO"),
        "RATELIMIT_STORAGE_URI": env.get("ALLY_RATELIMIT_URL", "memory://"),
        **cache_config(env.get("ALLY_CACHE_URL", ""), instance),
        "ALLY_CACHE_TIMEOUT": int(env.get("ALLY_CACHE_TIMEOUT", "3600")),
        # Off: every page is rendered, while listings' counts are still shared by the store.
        "ALLY_PAGE_CACHE": env.get("ALLY_PAGE_CACHE", "on").lower() not in OFF,
        # Failed or not, login POSTs per account (as typed) and per client address.
        "ALLY_LOGIN_LIMITS": env.get("ALLY_LOGIN_LIMITS", "5 per minute; 30 per hour"),
        "ALLY_LOGIN_ADDRESS_LIMITS": env.get(
            "ALLY_LOGIN_ADDRESS_LIMITS", "20 per minute; 200 per hour"
        ),
        "ALLY_PASSWORD_HASH": env.get("ALLY_PASSWORD_HASH", "scrypt"),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": ally_env == "production",
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }


# Flask-Caching's file store, with the key prefix its own factory leaves out.
FILE_STORE = "ally.cache.backends.PrefixedFileSystemCache"


def cache_config(url: str, instance: Path) -> dict:
    """Flask-Caching settings for the page cache, from ``ALLY_CACHE_URL``.

    * unset: files under ``instance/cache``, shared by every gunicorn worker of one host,
      so a purge made by the worker that saved a page reaches the others;
    * ``redis://…`` / ``rediss://…``: Redis, shared by several hosts;
    * ``simple://``: one process's memory (a single-worker development server, tests);
    * ``off``: no page cache.
    """
    scheme = url.partition(":")[0]
    if url == "off":
        return {
            "ALLY_CACHE_ENABLED": False,
            "CACHE_TYPE": "NullCache",
            "CACHE_NO_NULL_WARNING": True,
        }
    if url == "":
        settings = {"CACHE_TYPE": FILE_STORE, "CACHE_DIR": str(instance / "cache")}
    elif scheme == "filesystem":
        settings = {"CACHE_TYPE": FILE_STORE, "CACHE_DIR": url.removeprefix("filesystem://")}
    elif scheme in ("redis", "rediss"):
        settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    elif url == "simple://":
        settings = {"CACHE_TYPE": "SimpleCache"}
    else:
        raise ConfigError(
            f"ALLY_CACHE_URL={url!r}: use redis://host:6379/0, filesystem:///path, simple:// or off"
        )
    return {"ALLY_CACHE_ENABLED": True, "CACHE_THRESHOLD": 20000, **settings}


def _instance_secret(instance: Path) -> str:
    """Return a development secret kept in ``instance/secret_key``.

    Kept on disk so that sessions survive restarts and agree across gunicorn workers.
    """
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def environ() -> Mapping[str, str]:
    """The process environment; the single place ALLY reads it."""
    return os.environ
