"""Instructions per cold request, counted by valgrind's callgrind, against a baseline.

    python bench/instructions.py [--against REV] [--requests 100] [--returning] [URL ...]

The count is the same on every run, so a 1% change shows where wall-clock runs on a shared
machine drift by 30% between minutes. Where the cyclic garbage collector happens to run is
counted too: over 40 requests that moved a ratio by up to 10% (the home page read 1.051 at 40
requests and 0.944 at 150 for one change), hence 100 by default.

Each URL is served in process (the WSGI app, page cache off, after 30 warm-up requests) by a
git worktree of REV (default ``HEAD``) and by the working tree, on the database in
DATABASE_URL (default: ``bench/run.py``'s SQLite file; run that first, or ``flask --app wsgi
seed-bench``). Only the instructions between the first and last request are counted.
``--returning`` counts a returning reader: each request sends back the session cookie the
first response set (``bench/run.py``'s "returning reader" row).

It counts this Python process only: work a change moves to or saves on the database
server, or in the kernel (a round trip less), does not show here. Query counts
(``tests/test_queries.py``) and ``bench/run.py`` cover those. Needs valgrind
(``apt-get install valgrind``).
"""

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
URLS = [
    "/blog/bench-post-7/",
    "/blog/category/recovery/",
    "/blog/",
    "/api/v2/pages/?type=blog.BlogPage&fields=date,intro&limit=20",
    "/api/v2/pages/find/?html_path=/blog/bench-post-7/",  # followed to the post's detail
]
WARM_UP = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", default=URLS)
    parser.add_argument("--against", default="HEAD", help="the baseline git revision")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--returning", action="store_true", help="send the session cookie back")
    args = parser.parse_args()
    env = {**os.environ, "SECRET_KEY": "bench", "ALLY_PAGE_CACHE": "off", "PYTHONHASHSEED": "0"}
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'bench' / '.data' / 'bench.db'}")
    with tempfile.TemporaryDirectory() as scratch:
        baseline = Path(scratch) / "baseline"
        git("worktree", "add", "--detach", str(baseline), args.against)
        try:
            print(f"instructions per request · {args.requests} requests · {env['DATABASE_URL']}")
            print(f"\n| URL | {args.against} | working tree | ratio |\n|---|---:|---:|---:|")
            for url in args.urls:
                url = resolve(url, env)
                before = count(baseline, url, args.requests, env, scratch, args.returning)
                after = count(ROOT, url, args.requests, env, scratch, args.returning)
                print(f"| {url} | {before:,} | {after:,} | {after / before:.3f} |", flush=True)
        finally:
            git("worktree", "remove", "--force", str(baseline))


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True)


def resolve(url: str, env: dict) -> str:
    """``url``, or the detail URL a ``find/`` URL redirects to (the post's id differs from
    one database to the next); found in a process of its own, which counts nothing."""
    if "/find/" not in url:
        return url
    serving = [sys.executable, __file__, "--serve", str(ROOT), url, "0", ""]
    return subprocess.run(
        serving, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def count(code: Path, url: str, requests: int, env: dict, scratch: str, returning: bool) -> int:
    """Instructions per request of ``url`` served by the code in ``code``."""
    out = Path(scratch) / f"callgrind.{os.getpid()}.{abs(hash((str(code), url)))}"
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--serve",
            str(code),
            url,
            str(requests),
            "returning" if returning else "",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        said = [line for line in result.stderr.splitlines() if not line.startswith("==")]
        sys.exit(f"{url} ({code}): {said[-1] if said else result.stderr}")
    totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
    out.unlink()
    return int(totals[1]) // requests


def serve(code: str, url: str, requests: int, returning: bool) -> None:
    """In the process valgrind runs: warm up, then count ``requests`` requests of ``url``
    (``returning``: each sending the session cookie the first response set)."""
    sys.path.insert(0, code)
    from wsgi import app

    status, cookie = [], {}

    def start_response(line, headers, exc_info=None):
        status[:] = [line, dict(headers)]
        if returning and not cookie:
            session = app.config["SESSION_COOKIE_NAME"]
            for name, value in headers:
                if name == "Set-Cookie" and value.startswith(f"{session}="):
                    cookie["HTTP_COOKIE"] = value.split(";", 1)[0]

    def get(target: str) -> None:
        path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": None,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **cookie,
        }
        b"".join(app(environ, start_response))

    get(url)
    if status[0].startswith("302"):  # a find/ URL: print the detail it points to
        location = urlsplit(status[1]["Location"])
        print(location.path + (f"?{location.query}" if location.query else ""))
        return
    for _ in range(WARM_UP):
        get(url)
    if not status[0].startswith("200"):
        sys.exit(f"{url}: {status[0]} (is the bench data seeded?)")
    if returning and not cookie:
        sys.exit(f"{url}: sets no session cookie to send back")
    # What the app holds for good (modules, compiled templates, statements) is left out of
    # the collector's full passes, as a long-running worker's is by the time they become
    # rare: one such pass falling inside the counted requests or not moved a count by 5%.
    gc.collect()
    gc.freeze()
    toggle = ["callgrind_control", "--instr=on", str(os.getpid())]
    subprocess.run(toggle, check=True, capture_output=True)
    for _ in range(requests):
        get(url)
    toggle[1] = "--instr=off"
    subprocess.run(toggle, check=True, capture_output=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "returning")
    else:
        main()
