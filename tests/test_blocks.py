"""The block contract and every block's validation. Only chooser blocks touch the database."""

import uuid

import pytest
from markupsafe import Markup

from ally.blocks import BlockValidationError
from ally.blocks import BodyBlock
from ally.blocks.fields import CharBlock
from ally.blocks.fields import ChoiceBlock
from ally.blocks.fields import Missing
from ally.blocks.fields import RichTextBlock
from ally.blocks.fields import URLBlock
from ally.blocks.library import HeadingBlock
from ally.blocks.library import QuoteBlock

from . import factories

BODY = BodyBlock()


def clean(raw):
    return BODY.clean(BODY.to_python(raw))


def errors_of(raw) -> dict:
    with pytest.raises(BlockValidationError) as info:
        clean(raw)
    return info.value.as_json_data()


def test_stream_round_trip_keeps_wagtail_shape_and_fills_ids():
    raw = [
        {"type": "heading", "value": {"text": "Hi", "level": 3}},
        {"type": "paragraph", "value": "<b>x</b>", "id": "keep-me"},
    ]
    prep = BODY.get_prep_value(BODY.to_python(raw))
    assert [set(item) for item in prep] == [{"type", "value", "id"}] * 2
    assert prep[0]["value"] == {"text": "Hi", "level": 3}
    uuid.UUID(prep[0]["id"])  # a generated uuid4
    assert prep[1]["id"] == "keep-me"


def test_unknown_block_type_is_skipped_on_read_and_refused_on_clean():
    raw = [{"type": "marquee", "value": "x"}, {"type": "paragraph", "value": "ok"}]
    value = BODY.to_python(raw)
    # Nothing is lost on a round trip, even a block this version does not know.
    assert BODY.get_prep_value(value)[0]["value"] == "x"
    assert BODY.get_api_representation(value) == [
        {"type": "paragraph", "value": "ok", "id": value[1].id}
    ]
    assert errors_of(raw) == {"blockErrors": {"0": {"messages": ["Unknown block type 'marquee'."]}}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"text": "", "level": 2}, {"text": {"messages": ["This field is required."]}}),
        (
            {"text": "x" * 256, "level": 2},
            {"text": {"messages": ["Ensure this value has at most 255 characters (it has 256)."]}},
        ),
        (
            {"text": "Hi", "level": 5},
            {
                "level": {
                    "messages": ["Select a valid choice. 5 is not one of the available choices."]
                }
            },
        ),
        (
            {"text": "Hi", "level": True},
            {
                "level": {
                    "messages": ["Select a valid choice. True is not one of the available choices."]
                }
            },
        ),
        ({"text": 12, "level": 2}, {"text": {"messages": ["Enter text."]}}),
    ],
)
def test_heading_validation(value, message):
    assert (
        errors_of([{"type": "heading", "value": value}])["blockErrors"]["0"]["blockErrors"]
        == message
    )


def test_heading_valid_and_default_level():
    block = HeadingBlock()
    assert block.clean(block.to_python({"text": " Title "})) == {"text": "Title", "level": 2}


@pytest.mark.parametrize("raw", ["", "   ", "<p> </p>", "<br>", 5, ["x"]])
def test_paragraph_required(raw):
    errors = errors_of([{"type": "paragraph", "value": raw}])
    assert errors["blockErrors"]["0"]["messages"] in (["This field is required."], ["Enter text."])


def test_paragraph_is_sanitised_in_clean():
    value = clean([{"type": "paragraph", "value": '<b onclick="x">Hi</b><script>bad()</script>'}])
    assert value[0].value == Markup("<b>Hi</b>bad()")


def test_list_items_validated_by_index_and_need_one_item():
    errors = errors_of([{"type": "bulleted_list", "value": ["ok", "", "also ok"]}])
    assert errors["blockErrors"]["0"] == {
        "blockErrors": {"1": {"messages": ["This field is required."]}}
    }
    assert errors_of([{"type": "numbered_list", "value": []}])["blockErrors"]["0"] == {
        "messages": ["Add at least 1 item."]
    }
    assert errors_of([{"type": "numbered_list", "value": "not a list"}])["blockErrors"]["0"] == {
        "messages": ["Add at least 1 item."]
    }


def test_list_reads_wagtail_item_format():
    value = BODY.to_python(
        [{"type": "bulleted_list", "value": [{"type": "item", "value": "<i>a</i>", "id": "1"}]}]
    )
    assert BODY.get_prep_value(value)[0]["value"] == ["<i>a</i>"]


def test_list_items_are_inline_rich_text():
    value = clean([{"type": "bulleted_list", "value": ["<p><b>Tailored:</b> text</p>"]}])
    assert value[0].value == ["<b>Tailored:</b> text"]


def test_quote_requires_text_attribution_optional():
    assert QuoteBlock().clean(QuoteBlock().to_python({"text": "Be kind."})) == {
        "text": "Be kind.",
        "attribution": "",
    }
    assert (
        "text"
        in errors_of([{"type": "quote", "value": {"attribution": "Me"}}])["blockErrors"]["0"][
            "blockErrors"
        ]
    )


@pytest.mark.parametrize("url", ["https://ally.example/x", "http://a.b", "/blog/", "mailto:a@b.c"])
def test_url_block_accepts(url):
    assert URLBlock().clean(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "//evil.example/",
        "ftp://x.y/",
        "blog",
        "https://",
        "java\tscript:x",
        "/ok path",
        "vbscript:x",
    ],
)
def test_url_block_refuses(url):
    with pytest.raises(BlockValidationError):
        URLBlock().clean(url)


def test_call_to_action_errors_name_the_field():
    errors = errors_of([{"type": "call_to_action", "value": {"text": "Go", "url": "javascript:x"}}])
    assert list(errors["blockErrors"]["0"]["blockErrors"]) == ["url"]


def test_char_block_refuses_nul_and_choice_needs_value():
    with pytest.raises(BlockValidationError, match="Null"):
        CharBlock().clean("a\x00b")
    with pytest.raises(BlockValidationError, match="required"):
        ChoiceBlock(choices=[(1, "one")]).clean(None)


def test_rich_text_max_length():
    with pytest.raises(BlockValidationError, match="at most 10"):
        RichTextBlock(max_length=10).clean("x" * 11)


def test_struct_value_not_an_object_is_required_errors():
    errors = errors_of([{"type": "heading", "value": "just text"}])
    assert errors["blockErrors"]["0"]["blockErrors"]["text"] == {
        "messages": ["This field is required."]
    }


def test_body_must_keep_to_max_blocks():
    errors = errors_of([{"type": "paragraph", "value": "x"}] * 501)
    assert errors["messages"] == ["Use at most 500 blocks."]


def test_schema_lists_every_block_with_labels():
    schema = BODY.to_schema()
    labels = [child["label"] for child in schema["children"]]
    assert labels == [
        "Heading",
        "Paragraph",
        "Bulleted list",
        "Numbered list",
        "Quote",
        "Image",
        "Product promo",
        "Call to action",
    ]
    heading = schema["children"][0]
    assert heading["children"][1]["choices"] == [
        [2, "Heading 2"],
        [3, "Heading 3"],
        [4, "Heading 4"],
    ]


def test_searchable_text_covers_text_blocks():
    value = BODY.to_python(
        [
            {"type": "heading", "value": {"text": "Melatonin", "level": 2}},
            {"type": "paragraph", "value": "<b>Sleep</b> well"},
            {"type": "bulleted_list", "value": ["one", "two"]},
        ]
    )
    assert BODY.get_searchable_text(value) == "Melatonin Sleep well one two"


# -- chooser blocks: these read the database ------------------------------------------------


def test_product_promo_validates_product_exists(db_session):
    product = factories.make_product()
    ok = clean(
        [
            {
                "type": "product_promo",
                "value": {"product": product.id, "headline": "Sleep", "text": "", "cta": "Buy"},
            }
        ]
    )
    assert ok[0].value["product"] is product
    errors = errors_of(
        [{"type": "product_promo", "value": {"product": 99999, "headline": "Sleep", "cta": "Buy"}}]
    )
    assert errors["blockErrors"]["0"]["blockErrors"] == {
        "product": {"messages": ["The product with id 99999 does not exist."]}
    }
    errors = errors_of([{"type": "product_promo", "value": {"product": None, "headline": "x"}}])
    assert errors["blockErrors"]["0"]["blockErrors"]["product"] == {
        "messages": ["Choose a product."]
    }


def test_missing_product_keeps_its_id_when_saved(db_session):
    value = BODY.to_python([{"type": "product_promo", "value": {"product": 4242, "headline": "x"}}])
    assert isinstance(value[0].value["product"], Missing)
    assert BODY.get_prep_value(value)[0]["value"]["product"] == 4242


def test_image_block_requires_existing_image_and_alt(db_session):
    errors = errors_of([{"type": "image", "value": {"image": 7, "alt": "", "caption": ""}}])
    assert errors["blockErrors"]["0"]["blockErrors"] == {
        "image": {"messages": ["The image with id 7 does not exist."]},
        "alt": {"messages": ["This field is required."]},
    }


def test_product_promo_api_representation_inlines_product(app, db_session):
    product = factories.make_product(price_cents=2499)
    value = BODY.to_python(
        [{"type": "product_promo", "value": {"product": product.id, "headline": "H", "cta": "Add"}}]
    )
    api = BODY.get_api_representation(value)
    assert api[0]["value"]["product"] == {
        "id": product.id,
        "name": "Melatonin",
        "slug": "melatonin",
        "price": 2499,
        "currency": "USD",
        "url": None,  # promo page URLs come with the API's request context
    }


def test_choosers_load_in_one_query(db_session, count_queries):
    products = [factories.make_product(f"P{i}", 100 + i) for i in range(5)]
    raw = [{"type": "product_promo", "value": {"product": p.id, "headline": "h"}} for p in products]
    db_session.expire_all()
    with count_queries() as counter:
        value = BODY.to_python(raw)
    assert counter.count == 1
    assert [child.value["product"].price_cents for child in value] == [100, 101, 102, 103, 104]


# -- rendering ---------------------------------------------------------------------------------

EVERY_SIMPLE_BLOCK = [
    {"type": "heading", "value": {"text": "Sleep & <rest>", "level": 3}, "id": "abcdef12-0"},
    {"type": "heading", "value": {"text": "Bad level", "level": 9}, "id": "00000000-1"},
    {"type": "paragraph", "value": "One <b>bold</b> line", "id": "p1"},
    {"type": "paragraph", "value": "<p>Own</p><p>paragraphs</p>", "id": "p2"},
    {"type": "bulleted_list", "value": ["a <i>b</i>", "c"], "id": "l1"},
    {"type": "numbered_list", "value": ["first"], "id": "l2"},
    {"type": "quote", "value": {"text": "Be <kind>", "attribution": "Ann & co"}, "id": "q1"},
    {"type": "quote", "value": {"text": "Unsigned"}, "id": "q2"},
    {"type": "call_to_action", "value": {"text": "Shop", "url": '/shop/?a=1&b="2"'}, "id": "c"},
]


def test_simple_blocks_render_their_markup_with_text_escaped_and_rich_text_kept(app):
    with app.test_request_context():
        html = str(BODY.to_python(EVERY_SIMPLE_BLOCK).render())
    assert html.split("\n") == [
        '<h3 class="block-heading" id="h-abcdef12">Sleep &amp; &lt;rest&gt;</h3>',
        '<h2 class="block-heading" id="h-00000000">Bad level</h2>',
        '<p class="block-paragraph">One <b>bold</b> line</p>',
        '<div class="block-paragraph"><p>Own</p><p>paragraphs</p></div>',
        '<ul class="block-list">',
        "  <li>a <i>b</i></li>",
        "  <li>c</li>",
        "</ul>",
        '<ol class="block-list">',
        "  <li>first</li>",
        "</ol>",
        '<figure class="block-quote">',
        "  <blockquote><p>Be &lt;kind&gt;</p></blockquote>",
        "  <figcaption>— Ann &amp; co</figcaption>",
        "</figure>",
        '<figure class="block-quote">',
        "  <blockquote><p>Unsigned</p></blockquote>",
        "</figure>",
        '<p class="block-cta"><a class="button" href="/shop/?a=1&amp;b=&#34;2&#34;">Shop</a></p>',
    ]


def test_a_template_of_the_blocks_name_takes_over_its_markup(app, monkeypatch):
    from jinja2 import ChoiceLoader
    from jinja2 import DictLoader

    override = {"blocks/quote.html": '<q data-id="{{ block_id }}">{{ value.text }}</q>'}
    loader = ChoiceLoader([DictLoader(override), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)
    # Templates are looked up once per process, unless they reload (development).
    monkeypatch.setattr(app.jinja_env, "auto_reload", True)
    with app.test_request_context():
        html = str(BODY.to_python(EVERY_SIMPLE_BLOCK[6:8]).render())
    assert html == '<q data-id="q1">Be &lt;kind&gt;</q>\n<q data-id="q2">Unsigned</q>'


def test_a_stream_looks_up_each_block_types_renderer_once(app, monkeypatch):
    from ally.blocks.base import Block

    asked = []
    original = Block.renderer

    def spy(block, env):
        asked.append(block.name)
        return original(block, env)

    monkeypatch.setattr(Block, "renderer", spy)
    with app.test_request_context():
        html = str(BODY.to_python(EVERY_SIMPLE_BLOCK).render())
    # Two headings, two paragraphs and two quotes: each type asked once, every child rendered.
    assert sorted(asked) == sorted(set(asked))
    assert set(asked) == {item["type"] for item in EVERY_SIMPLE_BLOCK}
    assert html.count("block-heading") == 2 and html.count("<figure") == 2


@pytest.mark.parametrize("value", [["<script>alert(1)</script>"], {"html": "<b>x</b>"}, 7])
def test_rich_text_that_is_not_text_renders_nothing(app, value):
    # A body written around the editor: the paragraph and a rich text block outside a
    # stream render nothing rather than the value's repr trusted as HTML, or an error.
    raw = [{"type": "paragraph", "value": value, "id": "p"}, EVERY_SIMPLE_BLOCK[0]]
    with app.test_request_context():
        html = str(BODY.to_python(raw).render())
        note = RichTextBlock()
        note.set_name("note")
        alone = note.render(value)
    assert html == '\n<h3 class="block-heading" id="h-abcdef12">Sleep &amp; &lt;rest&gt;</h3>'
    assert alone == '<div class="block block-note"></div>'


def test_struct_children_missing_from_storage_take_their_defaults_each_their_own():
    from ally.blocks.list import ListBlock
    from ally.blocks.struct import StructBlock

    class Shelf(StructBlock):
        title = CharBlock(required=False)
        level = ChoiceBlock(choices=[(2, "2"), (3, "3")], default=3)
        items = ListBlock(CharBlock())

    first, second = Shelf().bulk_to_python([{}, {"level": 2, "title": None}])
    assert (first["title"], first["level"], first["items"]) == ("", 3, [])
    assert (second["title"], second["level"]) == ("", 2)
    first["items"].append("a")
    assert second["items"] == []  # a default is made per value, never shared
