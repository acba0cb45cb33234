"""Bounded load against gunicorn on 127.0.0.1: 16 shoppers, a fixed number of requests,
zero errors and zero lost cart lines; then the same while a worker is killed mid-run."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench import load

from .test_cart_workers import free_port
from .test_cart_workers import wait_until_up

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gunicorn_site(app, demo_site, db_session):
    db_session.commit()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "load-test",
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
            "/dev/null",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_mixed_load_has_no_errors_and_loses_no_cart_lines(gunicorn_site):
    base, _ = gunicorn_site
    report = load.run(base, shoppers=16, requests=25)
    assert report.requests >= 16 * 25
    assert report.errors == [] and report.lost_lines == 0, report.summary()


def test_killing_a_worker_fails_only_requests_in_flight(gunicorn_site):
    base, master = gunicorn_site
    report = load.run(base, shoppers=16, requests=40, kill_after=1.0, master_pid=master.pid)
    assert report.in_flight_at_kill is not None
    # A sync worker serves one request at a time: killing it can fail that one request only.
    assert len(report.errors) <= 1, report.summary()
    assert report.lost_lines == 0, report.summary()
    # The master replaced the worker: the site still answers.
    for _ in range(50):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    assert urllib.request.urlopen(base + "/blog/", timeout=5).status == 200
