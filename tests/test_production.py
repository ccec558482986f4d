"""Production behaviour: headers, health, request logs, static files, Redis outages."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import TEST_SECRET, Api
from webapp import create_app


def test_every_page_carries_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # An API answer made for someone (here: a session) is never stored; a cookieless
    # one is public for a shared cache (webapp.http_cache, tests/web/test_http_cache.py).
    Api(client).token  # noqa: B018 - starts the session
    assert client.get("/api/v1/articles").headers["Cache-Control"] == "private, no-store"


def test_pages_have_no_inline_script_or_style(client, make_article):
    article = make_article(poll=True)
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and " on" + "click=" not in page
    assert '<script src="/static/pulse.js?v=' in page


def test_health_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["database"] == "ok"


def test_health_reports_an_unreachable_database_as_503():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unavailable"


def test_static_files_are_versioned_and_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    href = page.split('href="/static/pulse.css?v=')[1].split('"')[0]
    assert len(href) == 12
    response = client.get(f"/static/pulse.css?v={href}")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_each_request_is_logged_as_one_structured_line(make_app, caplog):
    app = make_app(LOG_FORMAT="json")
    with caplog.at_level(logging.INFO, logger="webapp.requests"):
        app.test_client().get("/api/v1/csrf", headers={"X-Request-ID": "abc123"})
    [record] = [r for r in caplog.records if r.name == "webapp.requests"]
    assert record.fields["path"] == "/api/v1/csrf"
    assert record.fields["status"] == 200
    assert record.fields["request_id"] == "abc123"
    assert record.fields["duration_ms"] >= 0
    from webapp.hardening import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "GET" and line["level"] == "info"


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("WEBAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("PUBLIC_URL", "https://news.example")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["LOG_FORMAT"] == "json"
    response = app.test_client().get("/healthz")
    assert "max-age" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("limits_kind", ["decorated", "in_view"])
def test_redis_going_away_degrades_rate_limits_to_memory(
    make_app, make_article, make_user, caplog, monkeypatch, limits_kind
):
    """Redis unreachable: limits still apply (per process), with a warning; nothing breaks."""
    from webapp.extensions import limiter

    # The limiter is process-wide: start as a fresh worker would, with storage presumed up.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    app = make_app(
        RATELIMIT_ENABLED=True,
        REDIS_URL="redis://127.0.0.1:1/0",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
        RATELIMIT_VOTE="2 per minute",
        RATELIMIT_COMMENT="2 per minute",
    )
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        api = Api(app.test_client())
        with caplog.at_level(logging.WARNING):
            if limits_kind == "decorated":
                option = article.poll.options[0].id
                url = f"/api/v1/articles/{article.slug}/poll/votes"
                codes = [api.post(url, {"option_id": option}).status_code for _ in range(3)]
            else:
                api.login(make_user())
                url = f"/api/v1/articles/{article.slug}/comments"
                codes = [api.post(url, {"body": f"c{i}"}).status_code for i in range(3)]
        assert codes[:2] in ([201, 200], [201, 201])
        assert codes[2] == 429
        assert any(
            "unavailable" in r.getMessage()
            or "fallback" in r.getMessage().lower()
            or "storage" in r.getMessage().lower()
            for r in caplog.records
            if r.levelno >= logging.WARNING
        )
        health = api.get("/healthz").get_json()
        assert health["checks"]["redis"] == "degraded" and health["status"] == "ok"


def test_production_serves_static_files_compressed(monkeypatch, tmp_path):
    import gzip
    import shutil

    from webapp import PROJECT_ROOT

    static = tmp_path / "static"
    shutil.copytree(
        PROJECT_ROOT / "webapp" / "static", static, ignore=shutil.ignore_patterns("*.gz", "*.br")
    )
    (static / "pulse.css.gz").write_bytes(gzip.compress((static / "pulse.css").read_bytes()))
    monkeypatch.setenv("WEBAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("PUBLIC_URL", "https://news.example")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    app.static_folder = str(static)
    from webapp.hardening import static_files

    static_files(app)  # re-wrap with the copied folder
    response = app.test_client().get("/static/pulse.css?v=1", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=31536000" in response.headers["Cache-Control"]
