"""A reader in real Chromium: the seed post, the subscribe banner, the cart drawer, a phone."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page
from playwright.sync_api import expect

from ally.models import Subscriber

SEED_POST = "/blog/sleep-tight-recover-tight-melatonin-addiction-recovery/"


@pytest.fixture
def seeded(demo_site, db_session):
    db_session.commit()


def test_reader_reads_the_seed_post(page: Page, live_server, seeded):
    page.goto(live_server + "/blog/")
    page.get_by_role("link", name=re.compile("^Sleep Tight, Recover Tight")).first.click()
    expect(page).to_have_url(live_server + SEED_POST)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sleep Tight, Recover Tight: The Role of Melatonin in Addiction Recovery"
    )
    expect(page.locator(".post-header .post-meta")).to_have_text(
        "Aug 12, 2024 | Health Management, Recovery"
    )
    expect(page.locator(".product-card-price").first).to_have_text("$24.99")
    page.locator(".post-meta").get_by_role("link", name="Recovery").click()
    expect(page).to_have_url(live_server + "/blog/category/recovery/")
    expect(page.locator(".post-card")).to_have_count(1)


def test_subscribe_banner_reveals_code_in_place(
    page: Page, live_server, seeded, csrf_on, db_session
):
    page.goto(live_server + SEED_POST)
    page.get_by_text("Click Here To Subscribe").click()
    page.get_by_label("Email").fill("reader@ally.example")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("[data-subscribe-message]")).to_contain_text("ALLY15")
    expect(page).to_have_url(live_server + SEED_POST)
    assert db_session.scalar(sa.select(Subscriber.email)) == "reader@ally.example"


def test_empty_cart_drawer_opens_and_closes(page: Page, live_server, seeded):
    page.goto(live_server + SEED_POST)
    expect(page.locator(".cart-toggle")).to_have_text(re.compile(r"Cart\s+0\s+\$0\.00"))
    page.locator(".cart-toggle").click()
    drawer = page.get_by_role("complementary", name="My cart")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text("Your cart is empty.")
    expect(drawer).to_contain_text("Looks like you haven't made a choice yet.")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()


def test_phone_layout_has_no_horizontal_scroll(page: Page, live_server, seeded):
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/", "/blog/", SEED_POST):
        page.goto(live_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
