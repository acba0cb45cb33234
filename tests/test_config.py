"""Configuration from the environment, and the app factory."""

import os
import subprocess
import sys
from pathlib import Path

import flask.app
import pytest

from ally import create_app
from ally.config import FILE_STORE
from ally.config import ConfigError
from ally.config import from_environ

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_use_instance_folder(tmp_path):
    config = from_environ({}, str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/ally.db"
    assert config["ALLY_MEDIA_DIR"] == str(tmp_path / "media")
    assert config["ALLY_FREE_SHIPPING_CENTS"] == 5000
    assert config["ALLY_API_LIMIT_MAX"] == 20
    assert config["SESSION_COOKIE_SECURE"] is False


def test_dev_secret_is_kept_across_restarts(tmp_path):
    first = from_environ({}, str(tmp_path))["SECRET_KEY"]
    assert len(first) >= 32
    assert from_environ({}, str(tmp_path))["SECRET_KEY"] == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_environment_overrides(tmp_path):
    config = from_environ(
        {
            "SECRET_KEY": "k",
            "DATABASE_URL": "postgresql+psycopg://x/y",
            "ALLY_SITE_URL": "https://blog.example/",
            "ALLY_FREE_SHIPPING_CENTS": "7500",
        },
        str(tmp_path),
    )
    assert config["SECRET_KEY"] == "k"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://x/y"
    assert config["ALLY_SITE_URL"] == "https://blog.example"
    assert config["ALLY_FREE_SHIPPING_CENTS"] == 7500


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "SECRET_KEY, DATABASE_URL"),
        ({"SECRET_KEY": "k"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql+psycopg://x/y"}, "SECRET_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, env, missing):
    with pytest.raises(ConfigError, match=f"needs {missing}"):
        from_environ({"ALLY_ENV": "production", **env}, str(tmp_path))


def test_production_cookies_are_secure(tmp_path):
    config = from_environ(
        {"ALLY_ENV": "production", "SECRET_KEY": "k", "DATABASE_URL": "postgresql+psycopg://x/y"},
        str(tmp_path),
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_factory_takes_a_mapping_on_top(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db",
            "ALLY_CURRENCY": "EUR",
        }
    )
    assert app.config["ALLY_CURRENCY"] == "EUR"
    assert app.jinja_env.undefined.__name__ == "StrictUndefined"
    assert {"site", "static"} <= {rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()}


def test_catch_all_is_get_only(client, demo_site):
    assert client.post("/blog/").status_code == 405
    assert client.delete("/").status_code == 405


@pytest.mark.parametrize(
    "url, expected",
    [
        ("", {"CACHE_TYPE": FILE_STORE, "ALLY_CACHE_ENABLED": True}),
        (
            "redis://cache:6379/2",
            {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://cache:6379/2"},
        ),
        (
            "filesystem:///srv/ally-cache",
            {"CACHE_TYPE": FILE_STORE, "CACHE_DIR": "/srv/ally-cache"},
        ),
        ("simple://", {"CACHE_TYPE": "SimpleCache"}),
        ("off", {"ALLY_CACHE_ENABLED": False}),
    ],
)
def test_cache_url_chooses_the_store(tmp_path, url, expected):
    config = from_environ({"ALLY_CACHE_URL": url}, str(tmp_path))
    assert {key: config[key] for key in expected} == expected
    if not url:
        # Shared by every worker of the host, so a purge reaches all of them.
        assert config["CACHE_DIR"] == str(tmp_path / "cache")


def test_unknown_cache_url_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ALLY_CACHE_URL"):
        from_environ({"ALLY_CACHE_URL": "memcached://x"}, str(tmp_path))


def test_web_workers_do_not_load_migrations_but_the_cli_does(tmp_path):
    """Alembic and friends cost every gunicorn worker ~9 MB; only the CLI needs them."""
    env = {
        **os.environ,
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path}/ally.db",
        "PYTHONPATH": str(ROOT),
    }
    served = subprocess.run(
        [sys.executable, "-c", "import sys, wsgi; print('alembic' in sys.modules)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert served.stdout.strip() == "False"
    upgraded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    current = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "(head)" in current.stdout


def test_gunicorn_workers_freeze_what_loading_the_app_made():
    """Full collections skip the objects a worker holds for life (``gunicorn.conf.py``)."""
    import gc
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).parents[1] / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_the_app_asks_once_per_callable_whether_it_is_a_coroutine(tmp_path, monkeypatch):
    """Flask asks ``ensure_sync`` of every hook on every request; the answer is kept, and a
    coroutine function still goes to ``async_to_sync``, never run as if it were sync."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db"})
    inspected = []
    real = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda f: inspected.append(f) or real(f))
    monkeypatch.setattr(app, "async_to_sync", lambda func: ("wrapped", func))

    def view():
        return "ok"

    async def coroutine_view():
        return "ok"

    assert [app.ensure_sync(view) for _ in range(3)] == [view] * 3
    assert [app.ensure_sync(coroutine_view) for _ in range(3)] == [("wrapped", coroutine_view)] * 3
    assert inspected == [view, coroutine_view]
