"""The cart lives in the signed cookie, so two gunicorn workers agree on it."""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .factories import make_product

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_servers(app, site, db_session, tmp_path):
    """Two gunicorn instances (think: two hosts) on one database and one SECRET_KEY."""
    processes, bases = [], []
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "shared-by-every-worker",
        "WEB_CONCURRENCY": "1",
    }
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
                    cwd=ROOT,
                    env={**env, "PORT": str(port)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            wait_until_up(base)
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def wait_until_up(base: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/cart.js", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn at {base} did not start")


def test_cart_agrees_across_workers(two_servers, db_session):
    """Every request alternates between the two servers; the cart never disagrees."""
    product = make_product("Melatonin", 2499)
    db_session.commit()
    jar = http.cookiejar.CookieJar()  # cookies are per host, not per port: both servers share it
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(two_servers[0] + "/cart/", timeout=5).read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    turn = iter(range(10_000))

    def base() -> str:
        return two_servers[next(turn) % 2]

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            base() + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        )
        return json.load(opener.open(request, timeout=5))

    steps = [("add", 1), ("add", 2), ("change", 5), ("add", 1), ("change", 0), ("add", 3)] * 5
    expected = 0
    for number, (action, quantity) in enumerate(steps):
        if action == "add":
            post("/cart/add.js", {"id": product.id, "quantity": quantity})
            expected += quantity
        else:
            post("/cart/change.js", {"id": product.id, "quantity": quantity})
            expected = quantity
        cart = json.load(opener.open(base() + "/cart.js", timeout=5))
        assert (cart["item_count"], cart["total_price"]) == (expected, expected * 2499), number
