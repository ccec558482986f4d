"""What a shared cache may keep (issue 18, webapp.http_cache): a request without Pulse's
cookies gets a public, revalidatable page with no cookie and no per-visitor secret,
named by surrogate keys; anything else is private."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Api

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def cache_app(make_app: Callable[..., Flask]) -> Flask:
    application = make_app(HTTP_CACHE_SECONDS=7, HTTP_CACHE_STALE_SECONDS=41)
    with application.app_context():
        yield application


def keys_of(response: Any) -> set[str]:
    return set(response.headers["Surrogate-Key"].split())


def assert_public(response: Any) -> None:
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    assert response.headers["Cache-Control"] == (
        "public, max-age=0, s-maxage=7, stale-while-revalidate=41"
    )
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert "Cookie" in response.headers["Vary"]
    assert response.headers["xkey"] == response.headers["Surrogate-Key"]


def assert_private(response: Any) -> None:
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Surrogate-Key" not in response.headers and "xkey" not in response.headers
    assert "ETag" not in response.headers


def test_signed_out_article_page_is_public_with_its_keys_and_no_cookie(
    cache_app: Flask, make_article: Callable[..., Any]
) -> None:
    article = make_article(poll={"allow_anonymous": True})
    response = cache_app.test_client().get(f"/articles/{article.slug}")
    assert_public(response)
    assert keys_of(response) == {f"article-{article.id}", "articles", "site"}
    page = response.get_data(as_text=True)
    # The vote form is there, with no per-visitor secret in it.
    assert 'name="option_id"' in page
    assert "csrf_token" not in page


def test_second_view_with_the_etag_is_a_304_without_the_page(
    cache_app: Flask, make_article: Callable[..., Any]
) -> None:
    article = make_article()
    client = cache_app.test_client()
    first = client.get(f"/articles/{article.slug}")
    again = client.get(
        f"/articles/{article.slug}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"].startswith("public")
    stale = client.get(f"/articles/{article.slug}", headers={"If-None-Match": '"not-it"'})
    assert stale.status_code == 200 and stale.get_data() == first.get_data()


def test_the_etag_changes_with_the_page(
    cache_app: Flask, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    from webapp.extensions import db
    from webapp.services import comments

    article = make_article()
    client = cache_app.test_client()
    before = client.get(f"/articles/{article.slug}").headers["ETag"]
    comments.submit(article, make_user(), "A new comment on this story.")
    db.session.commit()
    after = client.get(f"/articles/{article.slug}", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before
    assert "A new comment on this story." in after.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", {"articles", "site"}),
        ("/labels/politics", {"articles", "site"}),
        ("/feed.atom", {"articles", "site"}),
        ("/api/v1/articles", {"articles", "site"}),
    ],
)
def test_lists_are_public_and_keyed_as_lists(
    cache_app: Flask, make_article: Callable[..., Any], path: str, expected: set[str]
) -> None:
    make_article(labels=["Politics"])
    response = cache_app.test_client().get(path)
    assert_public(response)
    assert keys_of(response) == expected


@pytest.mark.parametrize("tail", ["", "/comments", "/poll", "/poll/results"])
def test_api_reads_of_one_article_carry_its_key(
    cache_app: Flask, make_article: Callable[..., Any], tail: str
) -> None:
    article = make_article(poll={"results_visibility": "always"})
    response = cache_app.test_client().get(f"/api/v1/articles/{article.slug}{tail}")
    assert_public(response)
    assert {f"article-{article.id}", "site"} <= keys_of(response)


def test_signed_in_reader_gets_private_pages_and_never_a_304(
    cache_app: Flask, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article(poll=True)
    etag = cache_app.test_client().get(f"/articles/{article.slug}").headers["ETag"]
    api = Api(cache_app.test_client())
    api.login(make_user())
    for path in (f"/articles/{article.slug}", "/", f"/api/v1/articles/{article.slug}"):
        response = api.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200, path
        assert_private(response)
        assert "Cookie" in response.headers["Vary"]


def test_a_voter_cookie_or_a_session_makes_the_page_private(
    cache_app: Flask, make_article: Callable[..., Any]
) -> None:
    article = make_article(poll={"allow_anonymous": True})
    option = article.poll.options[0].id
    voter = cache_app.test_client()
    vote = voter.post(
        f"/articles/{article.slug}/poll", data={"option_id": option}, headers=SAME_ORIGIN
    )
    assert voter.get_cookie("pulse_voter") is not None
    assert_private(vote)  # a POST is never public
    assert_private(voter.get(f"/articles/{article.slug}"))
    with_session = cache_app.test_client()
    with_session.get("/api/v1/csrf")
    assert with_session.get_cookie("session") is not None
    assert_private(with_session.get(f"/articles/{article.slug}"))


def test_only_pulse_cookies_count(cache_app: Flask, make_article: Callable[..., Any]) -> None:
    article = make_article()
    client = cache_app.test_client()
    client.set_cookie("_ga", "GA1.2.3.4")  # the host's analytics: changes nothing we show
    assert_public(client.get(f"/articles/{article.slug}"))


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/csrf", "/articles/no-such-story"])
def test_health_token_and_errors_are_never_public(cache_app: Flask, path: str) -> None:
    assert_private(cache_app.test_client().get(path))


def test_a_post_is_never_public(cache_app: Flask, make_article: Callable[..., Any]) -> None:
    article = make_article(poll={"allow_anonymous": True})
    response = cache_app.test_client().post(
        f"/articles/{article.slug}/poll",
        data={"option_id": article.poll.options[0].id},
        headers={**SAME_ORIGIN, "X-Pulse-Fragment": "poll"},
    )
    assert response.status_code == 200
    assert_private(response)


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/feed.atom"])
def test_signed_out_pages_set_no_cookie_and_carry_no_token(
    cache_app: Flask, make_article: Callable[..., Any], path: str
) -> None:
    make_article(poll={"allow_anonymous": True})
    client: FlaskClient = cache_app.test_client()
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    assert "csrf_token" not in response.get_data(as_text=True)


def test_a_reader_with_a_session_gets_the_token_in_the_vote_form(
    cache_app: Flask, make_article: Callable[..., Any]
) -> None:
    article = make_article(poll={"allow_anonymous": True})
    api = Api(cache_app.test_client())
    api.token  # noqa: B018 - starts the session, as pulse.js does on a cached page
    page = api.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_flashes_still_reach_a_signed_out_voter(
    cache_app: Flask, make_article: Callable[..., Any]
) -> None:
    article = make_article(poll={"allow_anonymous": True})
    client = cache_app.test_client()
    client.post(
        f"/articles/{article.slug}/poll",
        data={"option_id": article.poll.options[0].id},
        headers=SAME_ORIGIN,
    )
    page = client.get(f"/articles/{article.slug}")
    assert "Your vote is counted." in page.get_data(as_text=True)
    assert_private(page)


def test_a_views_own_vary_is_kept_and_gains_cookie_once(make_app: Callable[..., Flask]) -> None:
    """The policy appends its headers without searching for them first: a view's own
    Vary is merged with Cookie, never repeated, and each header the policy writes is
    there once."""
    from flask import make_response

    application = make_app(HTTP_CACHE_SECONDS=7, HTTP_CACHE_STALE_SECONDS=41)

    @application.get("/test-vary")
    def varied() -> Any:
        response = make_response("<p>By language</p>")
        response.vary.add("Accept-Language")
        return response

    response = application.test_client().get("/test-vary")
    assert_public(response)
    assert response.headers.getlist("Vary") == ["Accept-Language, Cookie"]
    for name in ("Cache-Control", "Surrogate-Key", "xkey", "ETag"):
        assert len(response.headers.getlist(name)) == 1, name
    # Unconditional: the whole page; with the ETag: a 304 without it.
    assert response.get_data(as_text=True) == "<p>By language</p>"
    again = application.test_client().get(
        "/test-vary", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""
