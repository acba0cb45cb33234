"""The static example in examples/headless/ renders the blog from the API, cross-origin."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "headless"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def example_server():
    handler = functools.partial(QuietHandler, directory=str(EXAMPLE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_headless_example_renders_listing_and_post(
    page: Page, app, live_server, example_server, demo_site, db_session, monkeypatch
):
    db_session.commit()
    monkeypatch.setitem(app.config, "ALLY_CORS_ORIGINS", [example_server])
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{example_server}/index.html?api={live_server}")
    first = page.locator(".posts li").first
    expect(first.get_by_role("link")).to_have_text(
        "Sleep Tight, Recover Tight: The Role of Melatonin in Addiction Recovery"
    )
    expect(first.locator(".meta")).to_have_text("2024-08-12 | Health Management, Recovery")
    expect(page.locator(".posts li")).to_have_count(2)
    first.get_by_role("link").click()
    headings = page.locator("main h2")
    expect(headings.first).to_have_text(
        "Sleep Tight, Recover Tight: The Role of Melatonin in Addiction Recovery"
    )
    expect(headings.nth(1)).to_have_text("What is Melatonin?")
    expect(page.locator(".card .price")).to_have_text("$24.99")
    expect(page.locator("ul li b").first).to_have_text("Tailored for Recovery:")
    assert errors == []
