"""Load ALLY and the bare-Flask ceiling with the same tool and settings; print the ratios.

    python bench/run.py [--posts 1000] [--duration 10] [--connections 16] [--fresh]

Needs wrk (apt-get install wrk). Everything runs on 127.0.0.1 with bounded durations.
ALLY runs under gunicorn with 2 sync workers on the database in DATABASE_URL (default: a
SQLite file under bench/.data/, reused unless --fresh), first cold (page cache off), then
warm (page cache on); the ceiling runs the same way from memory, and is loaded again right
before each ALLY URL so that every ratio compares runs a few seconds apart.

Each run also reads the CPU time its server's processes (and, on a local PostgreSQL, the
database server's) used, per request: where the time goes under load, which requests per
second alone do not say on a machine whose speed drifts.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
URLS = {
    "post page": "/blog/bench-post-7/",
    "category listing": "/blog/category/recovery/",
    "/blog/": "/blog/",
    "API listing (fields=date,intro&limit=20)": "/api/v2/pages/?type=blog.BlogPage&fields=date,intro&limit=20",
    "API detail of a post": None,  # filled in once the post's id is known
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def start(app: str, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/healthz"
                if app == "wsgi:app"
                else f"http://127.0.0.1:{port}/post/",
                timeout=1,
            )
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{app} did not start on port {port}")


def wrk(url: str, duration: int, connections: int, cookie: str = "") -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms), failing loudly on any non-2xx/3xx or socket error."""
    return _wrk(url, duration, connections, cookie)[:3]


def measured(url: str, duration: int, connections: int, groups: dict, cookie: str = "") -> tuple:
    """:func:`wrk`'s three numbers, then the CPU µs per request each of ``groups`` (a name
    and its processes' ids) used during the run."""
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    *load, requests = _wrk(url, duration, connections, cookie)
    used = {n: (cpu_seconds(pids) - before[n]) / requests * 1e6 for n, pids in groups.items()}
    return (*load, used)


def _wrk(url: str, duration: int, connections: int, cookie: str = "") -> tuple:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", *headers, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise SystemExit(f"errors while loading {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, _ms(out, "50%"), _ms(out, "99%"), requests


def _ms(out: str, quantile: str) -> float:
    value, unit = re.search(rf"{quantile}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def cpu_seconds(pids: list[str]) -> float:
    """The user and system CPU time the processes ``pids`` have used (those still running)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(master: subprocess.Popen) -> list[str]:
    """gunicorn's master and its workers."""
    found = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    return [str(master.pid), *found.stdout.split()]


def database_pids(env: dict) -> list[str]:
    """A local PostgreSQL server's processes (none for SQLite or a server elsewhere)."""
    if not env["DATABASE_URL"].startswith("postgresql"):
        return []
    return subprocess.run(
        ["pgrep", "-x", "postgres"], capture_output=True, text=True
    ).stdout.split()


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    sizes = []
    for pid in server_pids(master)[1:]:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sizes


STORE = {"ALLY_CACHE_URL": f"filesystem://{ROOT / 'bench' / '.data' / 'cache'}"}
MODES = {
    # Cold: the page cache off, every request rendered (listings' counts are still shared
    # through the store). Warm: the page cache on. A fresh file store each time, shared by
    # both workers as in production.
    "cold": {**STORE, "ALLY_PAGE_CACHE": "off"},
    "warm": STORE,
}


def load_ally(
    env: dict, mode: str, duration: int, connections: int, ceiling: tuple, rounds: int = 1
) -> tuple[list, list]:
    """Start ALLY in ``mode`` and load every URL, each right after a run of the ceiling
    (``ceiling``: its process and URL), ``rounds`` times over.

    Returns rows of (name, req/s, p50, p99, the ceiling's req/s just before, CPU µs per
    request of ALLY's processes, PostgreSQL's and the ceiling's), each URL's round of
    median ratio, and the workers' RSS. Pairing each URL with its own ceiling run keeps the
    machine's drift (±15% between minutes here) out of the ratios; what drifts within a
    pair (one URL's ALLY CPU varied 18% between runs of the same code) is what the rounds
    are for.
    """
    shutil.rmtree(ROOT / "bench" / ".data" / "cache", ignore_errors=True)
    port = free_port()
    ally = start("wsgi:app", port, {**env, **MODES[mode]})
    process, ceiling_url = ceiling
    groups = {"ALLY": server_pids(ally), "PostgreSQL": database_pids(env)}
    try:
        # Every wrk request is a first visit: it gets a new session for its CSRF token. The
        # returning reader sends the session cookie back instead.
        post_page = f"http://127.0.0.1:{port}{URLS['post page']}"
        runs = [(name, f"http://127.0.0.1:{port}{path}", "") for name, path in URLS.items()]
        runs.append(("post page, returning reader", post_page, session_cookie(post_page)))
        found: dict[str, list] = {name: [] for name, _, _ in runs}
        for _ in range(rounds):
            for name, url, cookie in runs:
                wrk(url, 1, connections, cookie)  # warm-up: connections, templates, the cache
                bare = {"ceiling": server_pids(process)}
                ceiling_rps, _, _, bare_used = measured(ceiling_url, duration, connections, bare)
                *load, used = measured(url, duration, connections, groups, cookie)
                found[name].append((name, *load, ceiling_rps, {**used, **bare_used}))
        rows = [
            sorted(each, key=lambda row: row[1] / row[4])[len(each) // 2] for each in found.values()
        ]
        return rows, worker_rss_mb(ally)
    finally:
        ally.send_signal(signal.SIGTERM)
        ally.wait(timeout=30)


def load_floor(env: dict, duration: int, connections: int, ceiling_url: str) -> tuple | None:
    """(req/s, p99, the ceiling's req/s just before) of ``bench/floor.py``: the ceiling's
    page with one PostgreSQL read, what no database-backed page here can beat. None on
    SQLite (the floor reads through psycopg)."""
    if not env["DATABASE_URL"].startswith("postgresql"):
        return None
    port = free_port()
    floor = start("bench.floor:app", port, env)
    try:
        url = f"http://127.0.0.1:{port}/post/"
        wrk(url, 1, connections)
        ceiling = wrk(ceiling_url, duration, connections)[0]
        rps, _, p99 = wrk(url, duration, connections)
        return rps, p99, ceiling
    finally:
        floor.send_signal(signal.SIGTERM)
        floor.wait(timeout=30)


def session_cookie(url: str) -> str:
    """The ``session=…`` cookie a first visit to ``url`` is given."""
    header = urllib.request.urlopen(url).headers["Set-Cookie"]
    return header.split(";", 1)[0]


def find_post_id(env: dict) -> str:
    port = free_port()
    ally = start("wsgi:app", port, env)
    try:
        found = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v2/pages/find/?html_path=/blog/bench-post-7/"
        ).url
        return re.search(r"/api/v2/pages/(\d+)/", found).group(1)
    finally:
        ally.send_signal(signal.SIGTERM)
        ally.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=1, help="load each URL this often; report its median"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start from an empty SQLite file (default: reuse)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    data = ROOT / "bench" / ".data"
    data.mkdir(exist_ok=True)
    env = {**os.environ, "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}
    if "DATABASE_URL" not in env:
        if args.fresh:
            (data / "bench.db").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{data / 'bench.db'}"
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    print(flask(env, "seed-bench", "--posts", str(args.posts)))
    URLS["API detail of a post"] = f"/api/v2/pages/{find_post_id(env)}/"
    # The ceiling serves throughout (idle between its runs) and is loaded right before each
    # ALLY URL; each ratio divides by that run.
    port = free_port()
    ceiling = start("bench.ceiling:app", port, env)
    try:
        ceiling_url = f"http://127.0.0.1:{port}/post/"
        wrk(ceiling_url, 1, args.connections)
        _, ceiling_p50, ceiling_p99 = wrk(ceiling_url, args.duration, args.connections)
        results = {
            mode: load_ally(
                env, mode, args.duration, args.connections, (ceiling, ceiling_url), args.rounds
            )
            for mode in MODES
        }
        floor = load_floor(env, args.duration, args.connections, ceiling_url)
    finally:
        ceiling.send_signal(signal.SIGTERM)
        ceiling.wait(timeout=30)
    database = env["DATABASE_URL"].split(":")[0]
    print(
        f"\n{args.posts} posts · {database} · {args.connections} connections · "
        f"{args.duration}s each · gunicorn 2 sync workers"
        f"{f' · median of {args.rounds} rounds' if args.rounds > 1 else ''}\n"
    )
    runs = [row[4] for mode in MODES for row in results[mode][0]]
    print(
        f"Ceiling (bare Flask + Jinja post page), run before each ALLY URL: "
        f"{min(runs):.0f}–{max(runs):.0f} req/s; p50 {ceiling_p50:.1f} ms, "
        f"p99 {ceiling_p99:.1f} ms\n"
    )
    print(
        "| target | cold req/s | ceiling | cold / ceiling | cold p99 ms "
        "| warm req/s | ceiling | warm / ceiling | warm p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cold, warm in zip(results["cold"][0], results["warm"][0], strict=True):
        name, cold_rps, _, cold_p99, cold_ceiling, _ = cold
        _, warm_rps, _, warm_p99, warm_ceiling, _ = warm
        print(
            f"| {name} | {cold_rps:.0f} | {cold_ceiling:.0f} | {cold_rps / cold_ceiling:.2f} "
            f"| {cold_p99:.1f} | {warm_rps:.0f} | {warm_ceiling:.0f} "
            f"| {warm_rps / warm_ceiling:.2f} | {warm_p99:.1f} |"
        )
    print_cpu(results["cold"][0])
    for mode, (_, rss) in results.items():
        print(f"\nALLY worker RSS after the {mode} run: {', '.join(f'{mb:.0f} MB' for mb in rss)}")
    if floor:
        rps, p99, ceiling_rps = floor
        print(
            f"\nFloor (bench/floor.py: the ceiling's page plus one PostgreSQL read): "
            f"{rps:.0f} req/s, {rps / ceiling_rps:.2f} × the ceiling's {ceiling_rps:.0f}; "
            f"p99 {p99:.1f} ms"
        )


def print_cpu(rows: list) -> None:
    """The cold runs' CPU per request: ALLY's gunicorn, the database server, and the
    ceiling's gunicorn in the run just before. With wrk sharing the cores, req/s follows
    the sum of the first two against the third."""
    print(
        "\nCPU per request under load, cold (µs; user + system, from /proc):\n\n"
        "| target | ALLY | PostgreSQL | ALLY + PostgreSQL | ceiling | × ceiling |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for name, *_, used in rows:
        ally, database, bare = used["ALLY"], used["PostgreSQL"], used["ceiling"]
        print(
            f"| {name} | {ally:.0f} | {database:.0f} | {ally + database:.0f} | {bare:.0f} "
            f"| {(ally + database) / bare:.2f} |"
        )


if __name__ == "__main__":
    main()
