"""The page cache's file store, with the key prefix Flask-Caching's factory leaves out.

``CACHE_KEY_PREFIX`` (the fingerprint of ALLY's code, settings and database, see
``ally.cache.fingerprint``) reaches Redis, but Flask-Caching builds its file store without it:
a deploy kept serving pages the old code rendered, and another database behind the same
directory read this one's pages and counts.
"""

from typing import Any

from flask import Flask
from flask_caching.backends import FileSystemCache


class PrefixedFileSystemCache(FileSystemCache):
    """Flask-Caching's ``FileSystemCache`` whose keys start with ``CACHE_KEY_PREFIX``.

    Every read and write finds its file through ``_get_filename``, so prefixing there keys
    them all; ``clear`` still empties the whole directory (``flask clear-cache``).
    """

    def __init__(self, *args: Any, key_prefix: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key_prefix = key_prefix

    def _get_filename(self, key: str) -> str:
        if key != self._fs_count_file:  # the directory's file count, shared by every prefix
            key = self.key_prefix + key
        return super()._get_filename(key)

    @classmethod
    def factory(
        cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> "PrefixedFileSystemCache":
        kwargs["key_prefix"] = config["CACHE_KEY_PREFIX"] or ""
        return super().factory(app, config, args, kwargs)
