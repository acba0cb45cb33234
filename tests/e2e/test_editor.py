"""An author and an editor in real Chromium, using the block editor as people do."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page
from playwright.sync_api import expect

from ally.models import BlogPage
from ally.models import PageRevision

from ..conftest import PASSWORD
from ..factories import make_product


@pytest.fixture
def shop(site, users, db_session):
    product = make_product("ALLY Essentials Magnesium", 1999, slug="magnesium")
    db_session.commit()
    return {"blog": site.blog.id, "product": product}


def log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(live_server + "/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def add_block(page: Page, name: str) -> None:
    """Open the "+" menu beside the current block and choose a block by its visible name."""
    # Editor.js hides its toolbar while typing; clicking the (last, empty) block brings it back.
    page.locator("#editor .ce-block").last.click()
    page.locator(".ce-toolbar__plus").click()
    page.locator(".ce-popover--opened .ce-popover-item", has_text=re.compile(f"^{name}$")).click()
    # While the menu is open it takes Enter for itself (to pick an item), so an author's next
    # Enter would be lost: type only once it has closed.
    expect(page.locator(".ce-popover--opened")).to_have_count(0)


def shift_select(page: Page, arrow: str, count: int) -> None:
    """Extend the selection with Shift+arrow, as an author selects a word with the keyboard."""
    for _ in range(count):
        page.keyboard.press(f"Shift+{arrow}")


def write_post(page: Page, live_server: str, blog_id: int, title: str) -> None:
    page.goto(f"{live_server}/admin/pages/{blog_id}/add/blog.BlogPage/")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Intro").fill("Magnesium and rest in recovery.")
    page.get_by_label("Recovery").check()
    first = page.locator("#editor .ce-paragraph").first
    first.click()
    add_block(page, "Heading")
    # Editor.js swaps the paragraph for a heading, then places the caret in it: type after.
    expect(page.locator("#editor .ce-header:focus")).to_have_count(1)
    page.keyboard.type("Why magnesium helps")
    page.keyboard.press("Enter")
    expect(page.locator("#editor .ce-paragraph:focus")).to_have_count(1)
    page.keyboard.type("Magnesium supports deep sleep and calm.")
    # Select with the keyboard, as an author would; Editor.js then shows its inline toolbar.
    link_tool = page.locator('.ce-inline-toolbar [data-item-name="link"]')
    for attempt in range(3):
        page.keyboard.press("End")
        page.keyboard.press("ArrowLeft")
        shift_select(page, "ArrowLeft", len("calm"))
        # Editor.js opens its inline toolbar on a debounced selectionchange; on a busy machine
        # the first selection can be missed, so select again rather than fail.
        try:
            expect(link_tool).to_be_visible(timeout=3000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.keyboard.press("Control+k")
    page.locator(".ce-inline-tool-input--showed").fill("https://example.org/calm")
    page.keyboard.press("Enter")
    paragraph = page.locator("#editor .ce-paragraph", has_text="Magnesium supports")
    paragraph.click()
    page.keyboard.press("Home")
    for _ in range(len("Magnesium supports ")):
        page.keyboard.press("ArrowRight")
    shift_select(page, "ArrowRight", len("deep sleep"))
    page.locator('.ce-inline-toolbar [data-item-name="bold"]').click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    add_block(page, "Bulleted list")
    page.keyboard.type("Eases restlessness")
    page.keyboard.press("Enter")
    page.keyboard.type("Supports steady mood")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # an empty item leaves the list
    add_block(page, "Product promo")
    promo = page.locator("#editor .ally-tool").last
    promo.get_by_label("Product").select_option(label="ALLY Essentials Magnesium ($19.99)")
    promo.get_by_label("Headline").fill("Sleep support for recovery")


def test_author_journey_draft_preview_publish_edit_revert(
    page: Page, live_server, shop, csrf_on, db_session
):
    log_in(page, live_server, "editor@ally.example")
    write_post(page, live_server, shop["blog"], "Magnesium and Sleep")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("Draft of “Magnesium and Sleep” saved.")
    stored = db_session.scalar(sa.select(BlogPage).where(BlogPage.title == "Magnesium and Sleep"))
    assert [b["type"] for b in stored.body_json] == [
        "heading",
        "paragraph",
        "bulleted_list",
        "product_promo",
    ]
    assert "<b>deep sleep</b>" in stored.body_json[1]["value"]
    assert 'href="https://example.org/calm"' in stored.body_json[1]["value"]
    public = f"{live_server}/blog/magnesium-and-sleep/"
    assert page.request.get(public).status == 404  # a draft is not public

    with page.expect_popup() as popup:
        page.get_by_role("button", name="Preview").click()
    preview = popup.value
    expect(preview.locator(".preview-banner")).to_be_visible()
    expect(preview.get_by_role("heading", level=1)).to_have_text("Magnesium and Sleep")
    expect(preview.locator(".post-body b")).to_have_text("deep sleep")
    expect(preview.locator(".product-card-price")).to_have_text("$19.99")
    preview.close()

    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("is published")
    reader = page.context.new_page()
    reader.goto(public)
    expect(reader.get_by_role("heading", level=1)).to_have_text("Magnesium and Sleep")
    expect(reader.locator(".post-meta").first).to_contain_text("| Recovery")
    expect(reader.locator(".post-body a", has_text="calm")).to_have_attribute(
        "href", "https://example.org/calm"
    )
    expect(reader.locator(".post-body ul li")).to_have_count(2)
    expect(reader.locator(".product-card-title")).to_have_text("Sleep support for recovery")

    page.get_by_label("Title", exact=True).fill("Magnesium and Better Sleep")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("is published")
    reader.reload()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Magnesium and Better Sleep")

    page.get_by_role("link", name="Revisions").click()
    first_revision = page.locator("tbody tr").last
    first_revision.get_by_role("button", name="Revert to this").click()
    expect(page.locator(".flash-success")).to_contain_text("as a new draft")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Magnesium and Sleep")
    reader.reload()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Magnesium and Better Sleep")
    page.get_by_role("button", name="Publish", exact=True).click()
    reader.reload()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Magnesium and Sleep")
    # Saved, published, edited and published, reverted, published: five revisions.
    count = db_session.scalar(
        sa.select(sa.func.count())
        .select_from(PageRevision)
        .where(PageRevision.page_id == stored.id)
    )
    assert count == 5


def test_validation_error_shows_on_its_block_and_keeps_the_text(
    page: Page, live_server, shop, csrf_on
):
    log_in(page, live_server, "editor@ally.example")
    page.goto(f"{live_server}/admin/pages/{shop['blog']}/add/blog.BlogPage/")
    page.get_by_label("Title", exact=True).fill("Call to action test")
    page.locator("#editor .ce-paragraph").first.click()
    page.keyboard.type("Words I do not want to lose.")
    page.keyboard.press("Enter")
    add_block(page, "Call to action")
    cta = page.locator("#editor .ally-tool").last
    cta.get_by_label("Button text").fill("Shop now")
    cta.get_by_label("Link").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#error-summary")).to_contain_text("was not saved")
    invalid = page.locator("#editor .block-invalid")
    expect(invalid).to_have_count(1)
    expect(invalid.locator(".block-errors")).to_contain_text("Link: Enter a valid URL")
    expect(page.locator("#editor .ce-paragraph").first).to_have_text("Words I do not want to lose.")
    expect(invalid.get_by_label("Link")).to_have_value("javascript:alert(1)")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Call to action test")


def test_an_author_saves_drafts_but_cannot_publish(
    page: Page, live_server, shop, csrf_on, db_session
):
    log_in(page, live_server, "author@ally.example")
    page.goto(f"{live_server}/admin/pages/{shop['blog']}/add/blog.BlogPage/")
    expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Schedule")).to_have_count(0)
    page.get_by_label("Title", exact=True).fill("Author draft")
    page.locator("#editor .ce-paragraph").first.click()
    page.keyboard.type("A first draft.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("saved")
    post = db_session.scalar(sa.select(BlogPage).where(BlogPage.title == "Author draft"))
    assert post.live is False
    # Forcing the action by hand is refused by the server too.
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: "POST",
              headers: {"X-CSRFToken": document.querySelector('meta[name=csrf-token]').content},
              body: new URLSearchParams({title: "Author draft", body: "[]", action: "publish",
                                         date: "2024-08-12"})})).status""",
        f"{live_server}/admin/pages/{post.id}/edit/",
    )
    assert status == 403


def test_xss_typed_into_a_paragraph_is_inert(page: Page, live_server, shop, csrf_on):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server, "editor@ally.example")
    page.goto(f"{live_server}/admin/pages/{shop['blog']}/add/blog.BlogPage/")
    page.get_by_label("Title", exact=True).fill("Payload")
    page.locator("#editor .ce-paragraph").first.click()
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    page.keyboard.type(payload)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("is published")
    reader = page.context.new_page()
    reader.goto(f"{live_server}/blog/payload/")
    expect(reader.locator(".post-body")).to_contain_text(payload)
    expect(reader.locator(".post-body img")).to_have_count(0)
    expect(reader.locator(".post-body script")).to_have_count(0)
    reader.wait_for_timeout(300)
    assert dialogs == []


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("width", [375, 1280])
def test_admin_is_labelled_and_fits_a_phone(page: Page, live_server, shop, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "editor@ally.example")
    for path in (
        f"/admin/pages/{shop['blog']}/add/blog.BlogPage/",
        f"/admin/pages/{shop['blog']}/",
        "/admin/images/",
        "/admin/products/add/",
    ):
        page.goto(live_server + path)
        if "add/blog" in path:
            add_block(page, "Product promo")
        assert page.evaluate(UNLABELLED_CONTROLS) == [], path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
