"""RSS 2.0 feeds of the blog and of each category, built with feedgen."""

from datetime import UTC
from datetime import datetime
from datetime import time

from flask import Response
from flask import current_app

from ally.models import Page
from ally.models.blog import CategoryRef
from ally.models.cards import PostCard
from ally.models.pages import category_path
from ally.templating import absolute_url

FEED_LENGTH = 20


def feed_path(index: Page, category: CategoryRef | None = None) -> str:
    return f"{listing_path(index, category)}feed.xml"


def listing_path(index: Page, category: CategoryRef | None) -> str:
    return category_path(index.url_path, category.slug) if category else index.url_path


def rss_response(index: Page, category: CategoryRef | None, posts: list[PostCard]) -> Response:
    # Imported here: feedgen brings lxml, megabytes a worker needs only once feeds are read.
    from feedgen.feed import FeedGenerator

    site_name = current_app.config["ALLY_SITE_NAME"]
    feed = FeedGenerator()
    title = f"{category.name} – {site_name}" if category else f"{index.title} – {site_name}"
    feed.title(title)
    # The self link first: feedgen gives RSS's channel <link> the last link it was given,
    # and that must be the listing readers open, not the feed itself.
    feed.link(href=absolute_url(feed_path(index, category)), rel="self")
    feed.link(href=absolute_url(listing_path(index, category)), rel="alternate")
    feed.description(
        (category.description if category else index.search_description or index.intro)
        or f"News and advice from the {site_name} blog."
    )
    feed.language("en")
    for post in posts:
        entry = feed.add_entry(order="append")
        url = absolute_url(post.url_path)
        entry.title(post.title)
        entry.link(href=url)
        entry.guid(url, permalink=True)
        entry.description(post.intro or post.search_description or post.title)
        entry.pubDate(_published(post))
        for cat in post.filed_under:
            entry.category(term=cat.name)
    return Response(feed.rss_str(pretty=True), mimetype="application/rss+xml")


def _published(post: PostCard) -> datetime:
    if post.date is not None:
        return datetime.combine(post.date, time(), tzinfo=UTC)
    return post.first_published_at or post.created_at
