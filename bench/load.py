"""A bounded load test: shoppers reading the blog and filling carts, against 127.0.0.1.

    python bench/load.py --base http://127.0.0.1:8000 [--shoppers 16] [--requests 50]
                         [--kill-worker-after 2.0 --master-pid PID]

Each shopper has its own cookie jar, reads pages and API listings, and adds products to its
cart with the page's CSRF token. At the end every shopper's cart must hold exactly what its
successful adds put there (no lost lines), and no request may fail — except, with
``--kill-worker-after``, the one request the killed gunicorn (sync) worker was serving.
"""

import argparse
import http.client
import http.cookiejar
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from dataclasses import field

READS = [
    "/",
    "/blog/",
    "/blog/category/recovery/",
    "/search/?q=melatonin+sleep",
    "/api/v2/pages/?type=blog.BlogPage&limit=10",
    "/api/v2/pages/?search=probiotic&limit=10",
    "/api/v2/products/",
]


@dataclass
class Report:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    lost_lines: int = 0
    in_flight_at_kill: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0

    def summary(self) -> str:
        kill = (
            ""
            if self.in_flight_at_kill is None
            else f", {self.in_flight_at_kill} in flight at the kill"
        )
        counts = f"{self.requests} requests, {len(self.errors)} errors"
        return f"{counts}, {self.lost_lines} lost cart lines{kill}"


class Shopper:
    def __init__(self, base: str, report: Report, seed: int):
        self.base, self.report = base, report
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.random = random.Random(seed)
        self.token = ""
        self.expected: dict[int, int] = {}

    def call(self, path: str, body: dict | None = None) -> bytes | None:
        request = urllib.request.Request(self.base + path)
        if body is not None:
            request = urllib.request.Request(
                self.base + path,
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "X-CSRFToken": self.token},
            )
        with self.report.lock:
            self.report.in_flight += 1
            self.report.requests += 1
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.read()
        # A worker killed mid-response can also cut the status line or the body short
        # (``BadStatusLine``, ``IncompleteRead``): a failed request like any other.
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            with self.report.lock:
                self.report.errors.append(f"{path}: {error}")
            return None
        finally:
            with self.report.lock:
                self.report.in_flight -= 1

    def run(self, count: int, products: list[int]) -> None:
        page = self.call("/blog/")
        match = re.search(rb'name="csrf-token" content="([^"]+)"', page or b"")
        self.token = match.group(1).decode() if match else ""
        for _ in range(count - 2):
            if self.random.random() < 0.3:
                product = self.random.choice(products)
                if self.call("/cart/add.js", {"id": product, "quantity": 1}) is not None:
                    self.expected[product] = self.expected.get(product, 0) + 1
            else:
                self.call(self.random.choice(READS))
        self.check_cart()

    def check_cart(self) -> None:
        body = self.call("/cart.js")
        if body is None:
            return
        got = {item["id"]: item["quantity"] for item in json.loads(body)["items"]}
        lost = sum(max(0, qty - got.get(pid, 0)) for pid, qty in self.expected.items())
        with self.report.lock:
            self.report.lost_lines += lost


def run(
    base: str,
    shoppers: int = 16,
    requests: int = 50,
    kill_after: float | None = None,
    master_pid: int | None = None,
) -> Report:
    """Run the load; with ``kill_after``, SIGKILL one worker of ``master_pid`` mid-run."""
    report = Report()
    products = [
        item["id"]
        for item in json.load(urllib.request.urlopen(base + "/api/v2/products/", timeout=10))[
            "items"
        ]
    ]
    threads = [
        threading.Thread(target=Shopper(base, report, n).run, args=(requests, products))
        for n in range(shoppers)
    ]
    for thread in threads:
        thread.start()
    if kill_after is not None and master_pid:
        time.sleep(kill_after)
        workers = subprocess.run(
            ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
        ).stdout.split()
        with report.lock:
            report.in_flight_at_kill = report.in_flight
            os.kill(int(workers[0]), signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=120)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--shoppers", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--kill-worker-after", type=float)
    parser.add_argument("--master-pid", type=int)
    args = parser.parse_args()
    if not args.base.startswith(("http://127.", "http://localhost")):
        raise SystemExit("load tests only target this machine (127.0.0.1 / localhost)")
    report = run(args.base, args.shoppers, args.requests, args.kill_worker_after, args.master_pid)
    print(report.summary())
    for error in report.errors[:10]:
        print("  ", error)
    allowed = 0 if report.in_flight_at_kill is None else 1
    raise SystemExit(0 if len(report.errors) <= allowed and report.lost_lines == 0 else 1)


if __name__ == "__main__":
    main()
