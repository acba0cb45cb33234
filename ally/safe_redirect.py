"""Same-site redirect targets, for ``next`` and ``return_to`` parameters."""

from urllib.parse import urlsplit


def same_site_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``.

    Refuses absolute and protocol-relative URLs (``//evil.example``), backslash tricks
    browsers read as ``//``, and control characters, so a crafted link cannot send a
    shopper or an author to another site.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
