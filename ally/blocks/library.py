"""Every block the site can render, and the body each page type uses.

The names here are the stored ``type`` values, the template names (``blocks/<name>.html``)
and the API's block types; renaming one needs a data migration over ``pages.body_json``.
Blocks of a line or two of markup write it in ``render_html``; a template of the block's
name, added to ``templates/blocks/``, takes over from it.
"""

from typing import Any

from flask import current_app
from flask import request
from markupsafe import Markup

from ally.environment import as_markup
from ally.environment import escape_output

from .fields import CharBlock
from .fields import ChoiceBlock
from .fields import ImageChooserBlock
from .fields import ProductChooserBlock
from .fields import RichTextBlock
from .fields import TextBlock
from .fields import URLBlock
from .list import ListBlock
from .stream import StreamBlock
from .struct import StructBlock


class HeadingBlock(StructBlock):
    label = "Heading"
    icon = "title"
    text = CharBlock(max_length=255, label="Text")
    level = ChoiceBlock(
        choices=[(2, "Heading 2"), (3, "Heading 3"), (4, "Heading 4")], default=2, label="Level"
    )

    def render_html(self, value: Any, context: dict) -> Markup:
        """``<h2>``–``<h4>`` with an id from the block's, so a heading can be linked to."""
        level = value.get("level") if value.get("level") in (2, 3, 4) else 2
        anchor, text = escape_output(context.get("block_id", "")[:8]), _text(value.get("text"))
        return as_markup(f'<h{level} class="block-heading" id="h-{anchor}">{text}</h{level}>')


class ParagraphBlock(RichTextBlock):
    def render_html(self, value: Any, context: dict) -> Markup:
        """Sanitised HTML: wrapped in a ``<div>`` when it brings its own paragraphs."""
        if not isinstance(value, str):  # see RichTextBlock.render_basic
            return Markup("")
        tag = "div" if value.startswith("<p") else "p"
        return as_markup(f'<{tag} class="block-paragraph">{escape_output(value)}</{tag}>')


class QuoteBlock(StructBlock):
    label = "Quote"
    icon = "openquote"
    text = TextBlock(max_length=2000, label="Quote")
    attribution = CharBlock(required=False, max_length=255, label="Attribution")

    def render_html(self, value: Any, context: dict) -> Markup:
        attribution = value.get("attribution")
        caption = f"  <figcaption>— {_text(attribution)}</figcaption>\n" if attribution else ""
        return as_markup(
            f'<figure class="block-quote">\n  <blockquote><p>{_text(value.get("text"))}</p>'
            f"</blockquote>\n{caption}</figure>"
        )


class ImageBlock(StructBlock):
    label = "Image"
    icon = "image"
    image = ImageChooserBlock(label="Image")
    alt = CharBlock(
        max_length=255,
        label="Alt text",
        help_text="Describe the image for people who cannot see it.",
    )
    caption = CharBlock(required=False, max_length=255, label="Caption")

    def get_api_representation(self, value: Any, context: dict | None = None) -> dict[str, Any]:
        """The stored ids and text, plus a ready-to-use rendition (WebP, 800 wide)."""
        from ally import images

        data = super().get_api_representation(value, context)
        image = value.get("image")
        if image:
            url = images.rendition_url(image, "width-800")
            width, height = images.rendition_size(image, "width-800")
            api = (context or {}).get("api")
            data["rendition"] = {
                "url": url,
                "full_url": api.html_url(url) if api else url,
                "width": width,
                "height": height,
            }
        else:
            data["rendition"] = None
        return data


PRODUCT_CARD = "blocks/product_card.html"


class ProductPromoBlock(StructBlock):
    """A card with the product's current price and an "Add to cart" button."""

    label = "Product promo"
    icon = "tag"
    product = ProductChooserBlock(label="Product")
    headline = CharBlock(max_length=120, label="Headline")
    text = RichTextBlock(required=False, inline=True, max_length=2000, label="Text")
    cta = CharBlock(max_length=40, default="Add to cart", label="Button text")

    def render_html(self, value: Any, context: dict) -> Markup:
        """The product card the promo page shows too (``blocks/product_card.html``), rendered
        from this block directly: through a template of the block's own that included the
        card, two promos cost a post page 1.2% of its instructions in twice the Jinja contexts."""
        product = value.get("product")
        if not product:  # none chosen, or deleted since (``Missing``)
            return Markup("")
        card = current_app._get_current_object().jinja_env.get_template(PRODUCT_CARD)
        return as_markup(
            card.render(
                product=product,
                headline=value.get("headline"),
                text=value.get("text"),
                cta=value.get("cta"),
                # The request itself, as Flask's render_template gives it: the global
                # ``request`` is its proxy, dear to read through (``return_to``).
                request=request._get_current_object(),
            )
        )

    def get_api_representation(self, value: Any, context: dict | None = None) -> dict[str, Any]:
        """The product inlined, so one request gives a front-end the card: price in cents."""
        data = super().get_api_representation(value, context)
        product = value.get("product")
        api = (context or {}).get("api")
        path = api.product_urls.get(product.id) if api and product else None
        url = api.html_url(path) if path else None
        currency = current_app._get_current_object().config["ALLY_CURRENCY"]
        data["product"] = product.api_json(currency, url) if product else None
        return data


class CallToActionBlock(StructBlock):
    label = "Call to action"
    icon = "link"
    text = CharBlock(max_length=80, label="Text")
    url = URLBlock(label="Link")

    def render_html(self, value: Any, context: dict) -> Markup:
        url, text = _text(value.get("url")), _text(value.get("text"))
        return as_markup(f'<p class="block-cta"><a class="button" href="{url}">{text}</a></p>')


def _text(value: Any) -> str:
    """A stored value escaped for HTML: nothing for a missing one, not ``None``."""
    return escape_output("" if value is None else value)


class BodyBlock(StreamBlock):
    """The body of posts, promo pages and standard pages."""

    heading = HeadingBlock()
    paragraph = ParagraphBlock(label="Paragraph", max_length=20000)
    bulleted_list = ListBlock(RichTextBlock(inline=True, max_length=2000), label="Bulleted list")
    numbered_list = ListBlock(
        RichTextBlock(inline=True, max_length=2000), ordered=True, label="Numbered list"
    )
    quote = QuoteBlock()
    image = ImageBlock()
    product_promo = ProductPromoBlock()
    call_to_action = CallToActionBlock()
