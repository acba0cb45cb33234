"""The one rich-text sanitiser: every HTML string an author writes passes through here.

Built on bleach. The allow-list is PRODUCT.md's: ``p b strong i em a(href,title) br``;
links may be http(s), mailto or relative, and external links get ``rel="noopener
noreferrer"``. Everything else (scripts, event handlers, styles, iframes, svg, ``javascript:``
or ``data:`` URLs in any casing or encoding) is removed, and what was text stays text.
"""

import functools
import re
from html import unescape as html_unescape
from urllib.parse import urlsplit

from markupsafe import Markup

BLOCK_TAGS = frozenset({"p", "b", "strong", "i", "em", "a", "br"})
INLINE_TAGS = BLOCK_TAGS - {"p"}
ATTRIBUTES = {"a": ["href", "title"]}
PROTOCOLS = frozenset({"http", "https", "mailto"})
EXTERNAL_REL = "noopener noreferrer"
_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")


def _is_external(href: str) -> bool:
    parts = urlsplit(href)
    return bool(parts.netloc) or parts.scheme in {"http", "https"}


@functools.cache
def _cleaner(inline: bool):
    """bleach's cleaner for block or inline rich text, built on first use.

    bleach (and html5lib) load only when something is sanitised, so a worker that only
    serves readers never holds them in memory.
    """
    import bleach
    from bleach.html5lib_shim import Filter

    class ExternalLinkFilter(Filter):
        """Mark links that leave the site with ``rel``; runs after bleach has sanitised."""

        def __iter__(self):
            for token in super().__iter__():
                if token["type"] == "StartTag" and token["name"] == "a":
                    attrs = token["data"]
                    if _is_external(attrs.get((None, "href"), "")):
                        attrs[(None, "rel")] = EXTERNAL_REL
                yield token

    return bleach.Cleaner(
        tags=INLINE_TAGS if inline else BLOCK_TAGS,
        attributes=ATTRIBUTES,
        protocols=PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[ExternalLinkFilter],
    )


def clean_html(html: str, *, inline: bool = False) -> Markup:
    """Return ``html`` reduced to the allow-list, as trusted Markup.

    ``inline`` drops paragraphs too, for list items and other one-line rich text.
    """
    return Markup(_cleaner(inline).clean(html).strip())


def html_to_text(html: str) -> str:
    """Plain text of sanitised HTML, for search, feeds, descriptions and emptiness checks."""
    text = _TAG_RE.sub(" ", html)
    text = html_unescape(text) if "&" in text else text
    return _SPACE_RE.sub(" ", text).strip()
