"""Static files in every mode: the versioned URLs the pages link are kept a year and
never revalidated (``immutable``); a bare URL is revalidated; both answer 304 to a
cache that holds the current copy, and never carry a cookie."""

from __future__ import annotations

import re

import pytest


def _linked(client, name: str) -> str:
    page = client.get("/").get_data(as_text=True)
    found = re.search(rf'"(/static/{re.escape(name)}\?v=[0-9a-f]{{12}})"', page)
    assert found, f"the home page links no versioned {name}"
    return found.group(1)


@pytest.mark.parametrize("name", ["pulse.css", "pulse.js"])
def test_versioned_urls_are_cached_for_a_year_as_immutable(client, name):
    response = client.get(_linked(client, name))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    etag = response.headers["ETag"]
    again = client.get(_linked(client, name), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_bare_static_url_is_revalidated(client):
    response = client.get("/static/pulse.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert "immutable" not in response.headers["Cache-Control"]
    assert response.get_data() == client.get(_linked(client, "pulse.js")).get_data()


def test_production_marks_versioned_urls_immutable_too(make_app, monkeypatch):
    monkeypatch.setenv("WEBAPP_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://news.example")
    app = make_app(SECRET_KEY="p" * 40, WEBAPP_ENV="production")
    client = app.test_client()
    response = client.get(_linked(client, "pulse.css"))
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_missing_static_file_is_a_404(client):
    assert client.get("/static/no-such-file.js?v=abc").status_code == 404
