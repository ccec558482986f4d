"""What the frame's responses carry (issue 22): CSP frame-ancestors with the site's
origins and no X-Frame-Options, while every other page keeps DENY; the pop-up's opener
kept; the session cookie SameSite=None, Secure and Partitioned under /embed/ only; the
comment counts, readable cross-origin by the site's origins only. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, make_response, session

from webapp.extensions import db
from webapp.services import embed

HOST = "https://news.example"


def _frame_routes(app: Flask, site_id: int) -> None:
    """Stand-ins for e2's frame and pop-up pages: the helpers are what they call."""

    def frame() -> Any:
        session["seen"] = True
        return embed.frame_headers(make_response("frame"), embed.get_site(site_id))

    def popup() -> Any:
        return embed.popup_headers(make_response("popup"))

    def elsewhere() -> Any:
        session["seen"] = True
        return "first party"

    app.add_url_rule("/embed/e1-test/frame", "e1_test_frame", frame)
    app.add_url_rule("/e1-test/popup", "e1_test_popup", popup)
    app.add_url_rule("/e1-test/page", "e1_test_page", elsewhere)


def test_the_frame_may_be_framed_by_its_site_only(
    app: Flask, make_site: Callable[..., Any]
) -> None:
    site = make_site()
    _frame_routes(app, site.id)
    response = app.test_client().get("/embed/e1-test/frame")
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {HOST} https://www.news.example" in policy
    assert "frame-ancestors 'none'" not in policy
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in policy  # the rest of Pulse's policy stays


def test_every_other_page_keeps_deny(app: Flask, make_site: Callable[..., Any]) -> None:
    site = make_site()
    _frame_routes(app, site.id)
    client = app.test_client()
    for path in ("/", "/e1-test/page", "/api/v1/articles", f"/admin/embed/{site.id}"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path


def test_the_popup_keeps_its_opener_and_cannot_be_framed(
    app: Flask, make_site: Callable[..., Any]
) -> None:
    _frame_routes(app, make_site().id)
    client = app.test_client()
    popup = client.get("/e1-test/popup")
    assert popup.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert popup.headers["X-Frame-Options"] == "DENY"
    assert client.get("/e1-test/page").headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_session_cookie_is_partitioned_in_the_frame_only(
    app: Flask, make_site: Callable[..., Any]
) -> None:
    _frame_routes(app, make_site().id)
    framed = app.test_client().get("/embed/e1-test/frame").headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in framed.split(";")}
    assert {"secure", "partitioned", "httponly"} <= attributes
    assert "SameSite=None" in framed
    own = app.test_client().get("/e1-test/page").headers["Set-Cookie"]
    assert "SameSite=Lax" in own and "Partitioned" not in own
    assert "Secure" not in own  # as configured for tests (production sets Secure)


def test_counts_are_per_key_and_readable_by_the_site_s_origins_only(
    client: Any, make_site: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    from webapp.services import comments

    site = make_site(create_on_first_view=True)
    article = embed.resolve_thread(site, key="story-1", title="Story one")
    assert article is not None
    comments.submit(article, make_user("reader"), "A first thought on this.")
    db.session.commit()
    url = f"/api/v1/embed/counts?site={site.id}&threads=story-1,story-2"
    allowed = client.get(url, headers={"Origin": HOST})
    assert allowed.status_code == 200
    assert allowed.get_json() == {"counts": {"story-1": 1, "story-2": 0}}
    assert allowed.headers["Access-Control-Allow-Origin"] == HOST
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    stranger = client.get(url, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert "Origin" in stranger.headers["Vary"]


def test_counts_refuse_unknown_sites_and_empty_or_huge_lists(
    client: Any, make_site: Callable[..., Any]
) -> None:
    site = make_site()
    assert client.get("/api/v1/embed/counts?site=999999&threads=a").status_code == 404
    assert client.get("/api/v1/embed/counts?site=abc&threads=a").status_code == 404
    empty = client.get(f"/api/v1/embed/counts?site={site.id}&threads=")
    assert empty.status_code == 422 and empty.get_json()["error"]["code"] == "invalid"
    many = ",".join(f"k{n}" for n in range(embed.MAX_THREADS + 1))
    assert client.get(f"/api/v1/embed/counts?site={site.id}&threads={many}").status_code == 422


def test_the_first_party_pages_under_embed_are_not_the_frame() -> None:
    assert embed.is_frame_path("/embed/v1/thread")
    assert embed.is_frame_path("/embed/v1/comments/3/edit")
    for path in ("/embed/v1/popup", "/embed/v1/embed.js", "/embed/v1/link", "/articles/x"):
        assert not embed.is_frame_path(path), path
