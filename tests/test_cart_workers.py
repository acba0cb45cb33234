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
def gunicorn(app, site, db_session, tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "shared-by-both-workers",
        "WEB_CONCURRENCY": "2",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(p)s %(r)s %(s)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/cart.js", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cart_agrees_across_workers(gunicorn, db_session):
    base, log = gunicorn
    product = make_product("Melatonin", 2499)
    db_session.commit()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/cart/", timeout=5).read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            base + path,
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
        cart = json.load(opener.open(base + "/cart.js", timeout=5))
        assert (cart["item_count"], cart["total_price"]) == (expected, expected * 2499), number
    pids = {line.split()[0] for line in log.read_text().splitlines() if line.strip()}
    assert len(pids) == 2, "both workers should have served this cart"
