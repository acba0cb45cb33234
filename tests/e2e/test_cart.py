"""A shopper in real Chromium fills and empties the cart from the seed post."""

import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

SEED_POST = "/blog/sleep-tight-recover-tight-melatonin-addiction-recovery/"


@pytest.fixture
def seeded(demo_site, db_session):
    db_session.commit()


def test_fill_and_empty_the_cart_from_the_seed_post(page: Page, live_server, seeded, csrf_on):
    page.goto(live_server + SEED_POST)
    toggle = page.locator(".cart-toggle")
    expect(toggle).to_have_text(re.compile(r"Cart\s+0\s+\$0\.00"))

    page.locator(".product-card").get_by_role("button", name="Add to cart").click()
    expect(toggle).to_have_text(re.compile(r"Cart\s+1\s+\$24\.99"))
    drawer = page.get_by_role("complementary", name="My cart")
    expect(drawer).to_be_visible()
    expect(drawer.locator(".cart-line-title")).to_have_text("ALLY Essentials Melatonin Supplements")
    expect(drawer).to_contain_text("$25.01")  # away from free shipping

    drawer.get_by_role("button", name=re.compile("^One more")).click()
    expect(drawer.locator("[data-quantity]")).to_have_text("2")
    expect(toggle).to_have_text(re.compile(r"Cart\s+2\s+\$49\.98"))

    drawer.get_by_label("Discount code").fill("ally15")
    drawer.get_by_role("button", name="Apply").click()
    expect(drawer).to_contain_text("Code ALLY15 applied")
    expect(drawer.locator("[data-cart-total-value]")).to_have_text("$42.48")
    expect(toggle).to_have_text(re.compile(r"Cart\s+2\s+\$42\.48"))

    drawer.get_by_label("Discount code").fill("WRONG")
    drawer.get_by_role("button", name="Apply").click()
    expect(drawer).to_contain_text("isn't valid")
    expect(drawer.locator("[data-cart-total-value]")).to_have_text("$49.98")

    drawer.get_by_role("button", name=re.compile("^Remove")).click()
    expect(drawer).to_contain_text("Your cart is empty.")
    expect(drawer).to_contain_text("Looks like you haven't made a choice yet.")
    expect(toggle).to_have_text(re.compile(r"Cart\s+0\s+\$0\.00"))

    # The cart survives a reload: it lives in the cookie.
    page.locator(".product-card").get_by_role("button", name="Add to cart").click()
    expect(toggle).to_have_text(re.compile(r"Cart\s+1\s+\$24\.99"))
    page.reload()
    expect(page.locator(".cart-toggle")).to_have_text(re.compile(r"Cart\s+1\s+\$24\.99"))


def test_cart_works_without_javascript(browser, live_server, seeded, csrf_on):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + SEED_POST)
    page.locator(".product-card").get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(live_server + SEED_POST)
    expect(page.locator(".flash")).to_contain_text("was added to your cart")
    expect(page.locator(".cart-toggle")).to_have_text(re.compile(r"Cart\s+1\s+\$24\.99"))
    page.goto(live_server + "/cart/")
    page.locator(".cart-page").get_by_role("button", name=re.compile("^One more")).click()
    expect(page.locator(".cart-page [data-quantity]")).to_have_text("2")
    context.close()
