"""Embedding sites (issue 22): origins checked and normalised, the admins' pages (with
what was typed kept on errors), secrets rotated. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Api
from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models.embed import EmbedSite, EmbedThread
from webapp.services import embed


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://News.Example", "https://news.example"),
        ("https://news.example/", "https://news.example"),
        ("https://news.example:443", "https://news.example"),
        ("http://news.example:80", "http://news.example"),
        ("http://127.0.0.2:8000", "http://127.0.0.2:8000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_origins_are_normalised(typed: str, origin: str) -> None:
    assert embed.normalise_origin(typed) == origin


@pytest.mark.parametrize(
    "typed",
    [
        "news.example",
        "ftp://news.example",
        "https://*.news.example",
        "https://news.example/path",
        "https://news.example?x=1",
        "https://user@news.example",
        "https://news.example:99999",
        "javascript:alert(1)",
        "https://",
        "null",
    ],
)
def test_anything_but_an_exact_origin_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        embed.normalise_origin(typed)


def test_an_origin_list_is_deduplicated_and_names_the_bad_one() -> None:
    assert embed.parse_origins("https://a.example, https://A.example\nhttp://b.example:81") == [
        "https://a.example",
        "http://b.example:81",
    ]
    with pytest.raises(InvalidInput) as refused:
        embed.parse_origins("https://a.example https://*.b.example")
    assert "*.b.example" in (refused.value.fields or {})["origins"]
    with pytest.raises(InvalidInput):
        embed.parse_origins("  ")


def test_a_request_origin_matches_only_an_allowed_one(make_site: Callable[..., Any]) -> None:
    site = make_site()
    assert embed.allows_origin(site, "https://news.example")
    assert embed.allows_origin(site, "https://www.news.example")
    assert not embed.allows_origin(site, "https://news.example.evil.test")
    assert not embed.allows_origin(site, "http://news.example")
    assert not embed.allows_origin(site, "null")
    assert not embed.allows_origin(site, None)


def _admin_api(client: Any, make_user: Callable[..., Any], role: str = "admin") -> Api:
    api = Api(client)
    api.login(make_user(role))
    return api


def test_an_admin_registers_a_site_and_sees_its_secret(
    client: Any, make_user: Callable[..., Any]
) -> None:
    api = _admin_api(client, make_user)
    response = api.form(
        "/admin/embed/new",
        {
            "name": "Daily Example",
            "origins": "https://Daily.example/\nhttp://127.0.0.2:8000",
            "create_on_first_view": "y",
            "comment_mode": "premoderated",
            "poll_allow_anonymous": "y",
            "poll_results_visibility": "after_vote",
        },
    )
    assert response.status_code == 302
    site = db.session.query(EmbedSite).one()
    assert site.origins == ["https://daily.example", "http://127.0.0.2:8000"]
    assert site.create_on_first_view and site.poll_allow_anonymous
    assert (site.comment_mode, site.poll_results_visibility) == ("premoderated", "after_vote")
    assert len(site.secret) >= 40
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert site.secret in page and "https://daily.example" in page
    listing = client.get("/admin/embed").get_data(as_text=True)
    assert "Daily Example" in listing


def test_a_refused_form_keeps_what_was_typed(client: Any, make_user: Callable[..., Any]) -> None:
    api = _admin_api(client, make_user)
    response = api.form(
        "/admin/embed/new",
        {"name": "Kept Name", "origins": "https://ok.example\nhttps://*.wild.example"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Kept Name"' in page
    assert "https://*.wild.example" in page  # the textarea as typed
    assert 'aria-invalid="true"' in page
    assert db.session.query(EmbedSite).count() == 0


def test_an_admin_edits_and_rotates_the_secret(
    client: Any, make_user: Callable[..., Any], make_site: Callable[..., Any]
) -> None:
    site = make_site()
    old_secret = site.secret
    api = _admin_api(client, make_user)
    edited = api.form(
        f"/admin/embed/{site.id}", {"name": "Renamed", "origins": "https://renamed.example"}
    )
    assert edited.status_code == 302
    rotated = api.form(f"/admin/embed/{site.id}/secret", {})
    assert rotated.status_code == 302
    site = db.session.get(EmbedSite, site.id)
    assert site.name == "Renamed" and site.origins == ["https://renamed.example"]
    assert site.secret != old_secret and site.secret_rotated_at is not None


@pytest.mark.parametrize("role", ["reader", "moderator", "editor"])
def test_only_admins_see_or_change_sites(
    client: Any, make_user: Callable[..., Any], make_site: Callable[..., Any], role: str
) -> None:
    site = make_site()
    api = _admin_api(client, make_user, role)
    assert client.get("/admin/embed").status_code == 403
    assert client.get(f"/admin/embed/{site.id}").status_code == 403
    assert api.form(f"/admin/embed/{site.id}/secret", {}).status_code == 403
    assert db.session.get(EmbedSite, site.id).secret == site.secret


def test_signed_out_visitors_are_asked_to_sign_in(client: Any) -> None:
    assert client.get("/admin/embed").status_code == 401


def test_an_admin_gives_a_page_an_existing_article(
    client: Any,
    make_user: Callable[..., Any],
    make_site: Callable[..., Any],
    make_article: Callable[..., Any],
) -> None:
    site = make_site()
    article = make_article("Our own report")
    api = _admin_api(client, make_user)
    response = api.form(
        f"/admin/embed/{site.id}/threads",
        {"article": article.slug, "key": "https://news.example/2026/report#top"},
    )
    assert response.status_code == 302
    thread = db.session.query(EmbedThread).one()
    assert thread.key == "https://news.example/2026/report"
    assert thread.article_id == article.id
    # Off the site's origins: refused, the typed values kept.
    off = api.form(
        f"/admin/embed/{site.id}/threads",
        {"article": article.slug, "key": "https://elsewhere.example/x"},
    )
    assert off.status_code == 403
    assert "https://elsewhere.example/x" in off.get_data(as_text=True)
    # Another article for the same page: refused.
    other = make_article("Another")
    taken = api.form(
        f"/admin/embed/{site.id}/threads",
        {"article": other.slug, "key": "https://news.example/2026/report"},
    )
    assert taken.status_code == 409
    detached = api.form(f"/admin/embed/{site.id}/threads/{thread.id}/detach", {})
    assert detached.status_code == 302
    assert db.session.query(EmbedThread).count() == 0
