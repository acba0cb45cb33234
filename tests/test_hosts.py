"""Two gunicorn servers on one database and one shared store, as ops run ALLY on two hosts:
a page one stores the other serves, a change saved through one purges what the other would
serve, and login throttling counts attempts made on either.

The file store is what several workers of one host share (the default); Redis is what
several hosts share, tested when ``ALLY_TEST_REDIS_URL`` points at one (``.ci/run`` starts
one)."""

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .conftest import PASSWORD
from .factories import make_post
from .factories import make_product
from .test_cart_workers import ROOT
from .test_cart_workers import free_port
from .test_cart_workers import wait_until_up

REDIS_URL = os.environ.get("ALLY_TEST_REDIS_URL")
STORES = [
    "filesystem",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(not REDIS_URL, reason="needs ALLY_TEST_REDIS_URL (.ci/run)"),
    ),
]


@pytest.fixture
def store_env(request, tmp_path):
    if request.param == "filesystem":
        return {"ALLY_CACHE_URL": f"filesystem://{tmp_path / 'cache'}"}
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return {"ALLY_CACHE_URL": REDIS_URL, "ALLY_RATELIMIT_URL": REDIS_URL}


@pytest.fixture
def hosts(app, db_session, store_env):
    """Two servers, one worker each, started after the test's data is committed."""
    env = {
        **os.environ,
        **store_env,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "shared-by-every-host",
        "WEB_CONCURRENCY": "1",
        "ALLY_LOGIN_LIMITS": "4 per minute",
    }
    processes, bases = [], []

    def start() -> list[str]:
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
        return bases

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


class Browser:
    """One person's cookies, shared by both hosts (cookies are per host name, not port).

    Requests carry the site's public host name, as the proxy in front of the hosts sends
    it: responses are stored per URL, host included."""

    HEADERS = {"Host": "blog.ally.example"}

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str):
        response = self.opener.open(urllib.request.Request(url, headers=self.HEADERS), timeout=10)
        return response.headers.get("X-Cache"), response.read().decode()

    def post(self, url: str, form: dict) -> int:
        token = re.search(r'name="csrf-token" content="([^"]+)"', self.get(url)[1]).group(1)
        data = urllib.parse.urlencode({**form, "csrf_token": token}).encode()
        try:
            request = urllib.request.Request(url, data=data, headers=self.HEADERS)
            return self.opener.open(request, timeout=10).status
        except urllib.error.HTTPError as error:
            return error.code


@pytest.mark.parametrize("store_env", STORES, indirect=True)
def test_a_change_saved_on_one_host_purges_the_other(hosts, site, users, db_session):
    product = make_product("Melatonin", 2499)
    make_post(
        site.blog,
        title="Sleep well",
        body=[{"type": "product_promo", "value": {"product": product.id, "headline": "Sleep"}}],
    )
    db_session.commit()
    first, second = hosts()
    reader, staff = Browser(), Browser()
    assert reader.get(first + "/blog/sleep-well/")[0] == "MISS"
    state, page = reader.get(second + "/blog/sleep-well/")
    assert state == "HIT" and "$24.99" in page
    staff.post(second + "/admin/login", {"email": "editor@ally.example", "password": PASSWORD})
    saved = staff.post(
        f"{second}/admin/products/{product.id}/",
        {"name": "Melatonin", "slug": "melatonin", "price": "19.99", "active": "y"},
    )
    assert saved == 200  # the redirect after saving, followed
    state, page = reader.get(first + "/blog/sleep-well/")
    assert state == "MISS" and "$19.99" in page


@pytest.mark.parametrize("store_env", STORES[1:], indirect=True)
def test_login_throttling_counts_attempts_on_every_host(hosts, site, users):
    first, second = hosts()
    attacker = Browser()
    wrong = {"email": "editor@ally.example", "password": "wrong"}
    statuses = [attacker.post((first, second)[n % 2] + "/admin/login", wrong) for n in range(5)]
    # Four attempts a minute per account, wherever they land: two per host is not four each.
    assert statuses == [401, 401, 401, 401, 429]
