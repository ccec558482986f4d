from __future__ import annotations

import pytest

from tests.conftest import TEST_SECRET
from webapp import create_app
from webapp.config import build_config, database_url_from


def test_database_url_defaults_to_a_sqlite_file_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = build_config(tmp_path, {"SECRET_KEY": "x"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'pulse.db'}"


def test_postgres_urls_use_psycopg3():
    assert database_url_from("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url_from("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = build_config(tmp_path, {})["SECRET_KEY"]
    second = build_config(tmp_path, {})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_secret_key_and_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("WEBAPP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        build_config(tmp_path, {})
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PUBLIC_URL", "https://news.example")
    config = build_config(tmp_path, {})
    assert config["SESSION_COOKIE_SECURE"] is True


def test_redis_url_feeds_the_rate_limiter(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    config = build_config(tmp_path, {"SECRET_KEY": "x"})
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert config["RATELIMIT_ENABLED"] is False


def test_rate_limits_and_the_site_name_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RATELIMIT_VOTE", "5 per minute;20 per hour")
    monkeypatch.setenv("RATELIMIT_REPORT", "2 per minute")
    monkeypatch.setenv("SITE_NAME", "  The   Herald ")
    config = build_config(tmp_path, {"SECRET_KEY": "x"})
    assert config["RATELIMIT_VOTE"] == "5 per minute;20 per hour"
    assert config["RATELIMIT_REPORT"] == "2 per minute"
    assert config["SITE_NAME"] == "The Herald"


def test_a_rate_limit_the_limiter_cannot_read_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("RATELIMIT_COMMENT", "lots per minute")
    with pytest.raises(RuntimeError, match="RATELIMIT_COMMENT"):
        build_config(tmp_path, {"SECRET_KEY": "x"})


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    from webapp.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'pragmas.db'}",
        }
    )
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_database_down_gives_503_with_a_clear_message():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        }
    )
    client = app.test_client()
    response = client.get("/api/v1/articles")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"]
    page = client.get("/")
    assert page.status_code == 503
    assert "database is unreachable" in page.get_data(as_text=True)


def test_api_errors_use_the_contract_body(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "Nothing here."}}
    wrong_method = client.put("/api/v1/csrf")
    assert wrong_method.status_code in (403, 405)
    assert "error" in wrong_method.get_json()


def test_unexpected_errors_get_a_friendly_500_page(tmp_path):
    app = create_app({"SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})

    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    @app.get("/api/v1/boom")
    def api_boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert "Something went wrong" in page.get_data(as_text=True)
    assert "kaboom" not in page.get_data(as_text=True)
    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.get_json()["error"]["code"] == "internal_error"


def test_signed_in_readers_also_get_503_when_the_database_goes_away(api, make_user, monkeypatch):
    """The 503 page and the request log must not reload the user from the dead database."""
    import psycopg
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    api.login(make_user())

    def refuse(*args, **kwargs):
        # The driver's own connection failure (no SQLSTATE): what it raises when refused.
        failure = psycopg.OperationalError("connection refused")
        raise sa.exc.OperationalError("SELECT 1", {}, failure)

    monkeypatch.setattr(Session, "execute", refuse)
    monkeypatch.setattr(Session, "get", refuse)
    monkeypatch.setattr(Session, "scalar", refuse)
    monkeypatch.setattr(Session, "scalars", refuse)
    response = api.get("/api/v1/articles")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    page = api.get("/")
    assert page.status_code == 503
    assert "database is unreachable" in page.get_data(as_text=True)


def test_passwords_are_hashed_with_argon2s_recommended_parameters_by_default(tmp_path):
    """The suite hashes at argon2's cheapest for speed; a site gets RFC 9106's
    low-memory profile (argon2id, 3 passes over 64 MiB) unless it says otherwise."""
    import argon2

    from webapp.services import accounts

    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}
    )
    with app.app_context():
        stored = accounts.hash_password("correct horse battery")
    parameters = argon2.extract_parameters(stored)
    assert parameters == argon2.profiles.RFC_9106_LOW_MEMORY
    assert stored.startswith("$argon2id$")
    assert "m=65536,t=3" in stored


def test_an_unknown_password_hash_profile_stops_the_start(tmp_path):
    with pytest.raises(RuntimeError, match="ARGON2_PROFILE"):
        build_config(tmp_path, {"SECRET_KEY": "x", "ARGON2_PROFILE": "FASTEST_EVER"})


def test_integrity_settings_come_from_the_environment_and_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("INTEGRITY_SUSPECT_Z", "3.5")
    monkeypatch.setenv("POLL_MIN_VOTES_FOR_SHARES", "50")
    monkeypatch.setenv("RATELIMIT_ANONYMOUS_POLL_VOTES", "20 per hour")
    config = build_config(tmp_path, {})
    assert config["INTEGRITY_SUSPECT_Z"] == 3.5
    assert config["POLL_MIN_VOTES_FOR_SHARES"] == 50
    assert config["RATELIMIT_ANONYMOUS_POLL_VOTES"] == "20 per hour"
    monkeypatch.setenv("INTEGRITY_SIGNAL_RETENTION_DAYS", "a month")
    with pytest.raises(RuntimeError, match="INTEGRITY_SIGNAL_RETENTION_DAYS"):
        build_config(tmp_path, {})
    monkeypatch.setenv("INTEGRITY_SIGNAL_RETENTION_DAYS", "-3")
    with pytest.raises(RuntimeError, match="0 or more"):
        build_config(tmp_path, {})


def test_the_idle_time_before_a_connection_is_pinged_comes_from_the_environment(
    tmp_path, monkeypatch
):
    assert build_config(tmp_path, {})["DATABASE_PING_IDLE_SECONDS"] == 1.0
    monkeypatch.setenv("DATABASE_PING_IDLE_SECONDS", "2.5")
    assert build_config(tmp_path, {})["DATABASE_PING_IDLE_SECONDS"] == 2.5
    monkeypatch.setenv("DATABASE_PING_IDLE_SECONDS", "soon")
    with pytest.raises(RuntimeError, match="DATABASE_PING_IDLE_SECONDS"):
        build_config(tmp_path, {})
