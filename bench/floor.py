"""The floor: the ceiling's page with one PostgreSQL read per request, and nothing else.

Bare Flask, one psycopg connection per worker in autocommit, one prepared statement for
the post's title, intro, date and body, then the ceiling's template (the products its
promo blocks name are read once per worker and kept in memory). No ORM, no sessions,
no CSRF, no cache tags, no security headers: a lower bound for a page that reads the
database on this stack. ``bench/run.py`` loads it after ALLY on PostgreSQL; its ratio to the
ceiling bounds what ALLY's cold pages can reach here.

    DATABASE_URL=postgresql+psycopg://… gunicorn -w 2 bench.floor:app   # GET /post/
"""

import os

import psycopg
from flask import Flask

from bench import ceiling

READ = (
    "SELECT title, intro, date, body_json FROM pages"
    " WHERE url_path = %s AND live AND (expire_at IS NULL OR expire_at > now())"
)
PATH = "/blog/bench-post-7/"

app = Flask(__name__)
_worker: dict = {}


def connection() -> psycopg.Connection:
    """This worker's connection, opened on first use (after gunicorn forks)."""
    if "connection" not in _worker:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _worker["connection"] = psycopg.connect(url, autocommit=True, prepare_threshold=0)
        rows = _worker["connection"].execute("SELECT id, name, price_cents FROM products")
        _worker["products"] = {pk: {"name": n, "price_cents": p} for pk, n, p in rows}
    return _worker["connection"]


@app.get("/post/")
def post():
    title, intro, day, body = connection().execute(READ, (PATH,)).fetchone()
    page = {**ceiling.POST, "title": title, "intro": intro, "date": day.isoformat(), "body": body}
    return ceiling.render(page, _worker["products"], PATH)
