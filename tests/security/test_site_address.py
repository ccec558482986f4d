"""The site's own address: a bad Host header is a 400, and links come from PUBLIC_URL."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from webapp import create_app
from webapp.config import build_config

ATOM = {"a": "http://www.w3.org/2005/Atom"}

INVALID_HOSTS = [
    "a..b",
    "a..b:8080",
    ".",
    "..",
    "-..example",
    "x" * 64 + ".example",  # a label longer than DNS allows
    "exa mple.example",
    "evil.example/path",
    "evil.example:99999",
    "evil.example:port",
    "<script>",
    "[::1",
]

VALID_HOSTS = ["localhost", "localhost:5000", "news.example", "127.0.0.1:8000", "[::1]:5000"]

PAGES = ["/", "/login", "/register", "/feed.atom", "/labels/world", "/healthz", "/no-such-page"]
API = ["/api/v1/articles", "/api/v1/csrf", "/api/v1/auth/me", "/api/v1/no-such-thing"]


@pytest.mark.parametrize("host", INVALID_HOSTS)
def test_an_invalid_host_is_a_400_on_pages_and_the_api_never_a_500(client, host):
    for path in PAGES:
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path, response.status_code)
        assert response.mimetype == "text/html"
        assert "Host" in response.get_data(as_text=True)
    for path in API:
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path, response.status_code)
        assert response.get_json()["error"]["code"] == "malformed_request"
    response = client.post("/login", data={"email": "a@example.org"}, headers={"Host": host})
    assert response.status_code == 400


@pytest.mark.parametrize("host", VALID_HOSTS)
def test_ordinary_hosts_are_served(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200
    assert client.get("/api/v1/articles", headers={"Host": host}).status_code == 200


def feed_links(response) -> list[str]:
    assert response.status_code == 200
    root = ElementTree.fromstring(response.get_data())
    links = [link.get("href") for link in root.iter("{http://www.w3.org/2005/Atom}link")]
    ids = [node.text for node in root.iter("{http://www.w3.org/2005/Atom}id")]
    return links + ids


def test_feed_links_come_from_public_url_never_the_host_header(make_app, make_article):
    app = make_app(PUBLIC_URL="https://news.example/")
    with app.app_context():
        article = make_article("Talks resume")
        client = app.test_client()
        for host in ("evil.example", "localhost", "news.example:8443"):
            links = feed_links(client.get("/feed.atom", headers={"Host": host}))
            assert links, host
            assert all(link.startswith("https://news.example/") for link in links), links
            assert f"https://news.example/articles/{article.slug}" in links
            assert "https://news.example/feed.atom" in links
            assert "https://news.example/" in links
        # A proxy's forwarded host does not reach the links either.
        proxied = make_app(PUBLIC_URL="https://news.example", TRUSTED_PROXY_COUNT=1)
        links = feed_links(
            proxied.test_client().get(
                "/feed.atom", headers={"X-Forwarded-Host": "evil.example", "Host": "evil.example"}
            )
        )
        assert all(link.startswith("https://news.example/") for link in links), links


def test_public_url_may_carry_a_path_prefix(make_app, make_article):
    app = make_app(PUBLIC_URL="https://example.org/pulse")
    with app.app_context():
        slug = make_article("Talks resume").slug
        links = feed_links(app.test_client().get("/feed.atom", headers={"Host": "evil.example"}))
    assert f"https://example.org/pulse/articles/{slug}" in links
    assert all(link.startswith("https://example.org/pulse/") for link in links), links


def test_absolute_links_need_no_request_when_public_url_is_set(make_app):
    """Mail sent from a command has no request to borrow a host from."""
    from webapp.site_address import absolute_url

    app = make_app(PUBLIC_URL="https://news.example")
    with app.app_context():
        assert absolute_url("public.article", slug="a-story") == (
            "https://news.example/articles/a-story"
        )
        assert absolute_url("public.article", slug="a-story", _anchor="poll") == (
            "https://news.example/articles/a-story#poll"
        )
    development = make_app()
    with development.app_context(), pytest.raises(RuntimeError, match="PUBLIC_URL"):
        absolute_url("public.home")


def test_in_development_without_public_url_feed_links_use_the_request_host(client, make_article):
    article = make_article("Talks resume")
    links = feed_links(client.get("/feed.atom", headers={"Host": "localhost:5000"}))
    assert f"http://localhost:5000/articles/{article.slug}" in links


def test_production_without_public_url_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_URL must be set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    monkeypatch.setenv("PUBLIC_URL", "https://news.example/")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["PUBLIC_URL"] == "https://news.example"


@pytest.mark.parametrize(
    "value",
    [
        "news.example",
        "//news.example",
        "ftp://news.example",
        "https://",
        "https://a..b",
        "https://news.example:port",
        "https://news.example/?x=1",
        "https://news.example/#top",
        "https://user:secret@news.example",
        "https://news example",
        "javascript:alert(1)",
    ],
)
def test_a_public_url_that_is_not_an_address_stops_the_start(tmp_path, value):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        build_config(tmp_path, {"SECRET_KEY": "x", "PUBLIC_URL": value})


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://news.example", "https://news.example"),
        ("https://news.example/", "https://news.example"),
        (" http://localhost:5000 ", "http://localhost:5000"),
        ("https://example.org/pulse/", "https://example.org/pulse"),
    ],
)
def test_public_url_is_kept_without_its_trailing_slash(tmp_path, value, kept):
    assert build_config(tmp_path, {"SECRET_KEY": "x", "PUBLIC_URL": value})["PUBLIC_URL"] == kept
