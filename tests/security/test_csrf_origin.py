"""Forms posted from a cached page, which carries no CSRF token (issue 18).

A form post without a session (a signed-out reader's vote, sign-in, registration) is
accepted when the browser says it comes from this site (``Sec-Fetch-Site``, else
``Origin``) and refused, as a bad token is, otherwise. A request with a session, and
every JSON API request, still needs the token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Api

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
CSRF_REFUSAL = "Security check failed"


def vote(client: FlaskClient, article: Any, headers: dict[str, str], **data: Any) -> Any:
    return client.post(
        f"/articles/{article.slug}/poll",
        data={"option_id": article.poll.options[0].id, **data},
        headers=headers,
    )


def votes_counted(article: Any) -> int:
    from webapp.extensions import db

    db.session.refresh(article.poll.options[0])
    return int(article.poll.options[0].vote_count)


@pytest.fixture
def open_poll(make_article: Callable[..., Any]) -> Any:
    return make_article(poll={"allow_anonymous": True})


@pytest.mark.parametrize(
    "headers",
    [
        SAME_ORIGIN,
        {"Sec-Fetch-Site": "none"},  # the reader's own doing
        {"Origin": "http://localhost"},  # an older browser: Origin alone
    ],
    ids=["sec-fetch-site", "sec-fetch-site none", "origin"],
)
def test_a_vote_from_a_cached_page_counts_and_sets_the_voter_cookie(
    app: Flask, open_poll: Any, headers: dict[str, str]
) -> None:
    client = app.test_client()
    page = client.get(f"/articles/{open_poll.slug}")
    assert client.get_cookie("pulse_voter") is None and client.get_cookie("session") is None
    assert "csrf_token" not in page.get_data(as_text=True)
    response = vote(client, open_poll, headers)
    assert response.status_code == 302
    assert client.get_cookie("pulse_voter") is not None
    assert votes_counted(open_poll) == 1


def test_a_vote_with_script_from_a_cached_page_gets_its_section(app: Flask, open_poll: Any) -> None:
    client = app.test_client()
    response = vote(client, open_poll, {**SAME_ORIGIN, "X-Pulse-Fragment": "poll"})
    assert response.status_code == 200
    assert "(your vote)" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost:8080"},  # another port is another origin
        {"Origin": "https://localhost"},  # and another scheme
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is not this site
        # Fetch Metadata decides when it is there, whatever Origin says.
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
        {},  # neither header: nothing to tell where it came from
    ],
    ids=[
        "foreign origin",
        "other port",
        "other scheme",
        "null origin",
        "cross-site",
        "same-site",
        "cross-site with own origin",
        "no headers",
    ],
)
def test_a_vote_from_elsewhere_is_refused_and_sets_no_cookie(
    app: Flask, open_poll: Any, headers: dict[str, str]
) -> None:
    client = app.test_client()
    response = vote(client, open_poll, headers)
    assert response.status_code == 403
    assert CSRF_REFUSAL in response.get_data(as_text=True)
    assert client.get_cookie("pulse_voter") is None
    assert votes_counted(open_poll) == 0


def test_with_public_url_the_origin_must_be_the_public_one(
    make_app: Callable[..., Flask], make_article: Callable[..., Any]
) -> None:
    app = make_app(PUBLIC_URL="https://news.example")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        refused = vote(app.test_client(), article, {"Origin": "http://localhost"})
        assert refused.status_code == 403
        accepted = vote(app.test_client(), article, {"Origin": "https://news.example"})
        assert accepted.status_code == 302


def test_a_session_keeps_the_token_check(app: Flask, open_poll: Any) -> None:
    api = Api(app.test_client())
    api.token  # noqa: B018 - a session with a token in it, as pulse.js makes
    without = vote(api.client, open_poll, SAME_ORIGIN)
    assert without.status_code == 403
    with_token = vote(api.client, open_poll, SAME_ORIGIN, csrf_token=api.token)
    assert with_token.status_code == 302


def test_signed_in_form_post_without_token_is_refused(
    app: Flask, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article(poll=True)
    api = Api(app.test_client())
    api.login(make_user())
    response = vote(api.client, article, SAME_ORIGIN)
    assert response.status_code == 403
    assert votes_counted(article) == 0
    logout = api.client.post("/logout", headers=SAME_ORIGIN)
    assert logout.status_code == 403


def test_a_remember_me_cookie_alone_keeps_the_token_check(
    app: Flask, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article(poll=True)
    client = app.test_client()
    signed_in = client.post(
        "/login",
        data={"email": make_user().email, "password": PASSWORD, "remember": "y"},
        headers=SAME_ORIGIN,
    )
    assert signed_in.status_code == 302
    remember = client.get_cookie("remember_token")
    assert remember is not None
    fresh = app.test_client()  # the browser restarted: only the remember-me cookie
    fresh.set_cookie("remember_token", remember.value)
    assert vote(fresh, article, SAME_ORIGIN).status_code == 403


def test_the_api_still_needs_its_token(app: Flask, open_poll: Any) -> None:
    client = app.test_client()
    response = client.post(
        f"/api/v1/articles/{open_poll.slug}/poll/votes",
        json={"option_id": open_poll.poll.options[0].id},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert client.get_cookie("pulse_voter") is None


def test_sign_in_from_a_cached_page(app: Flask, make_user: Callable[..., Any]) -> None:
    user = make_user()
    client = app.test_client()
    page = client.get("/login")
    assert "csrf_token" not in page.get_data(as_text=True)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, headers=SAME_ORIGIN
    )
    assert response.status_code == 302
    assert client.get_cookie("session") is not None


def test_a_failed_sign_in_keeps_the_email_and_sets_no_cookie(
    app: Flask, make_user: Callable[..., Any]
) -> None:
    user = make_user()
    client = app.test_client()
    response = client.post(
        "/login", data={"email": user.email, "password": "not the password"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert f'value="{user.email}"' in page
    assert "csrf_token" not in page
    assert client.get_cookie("session") is None


def test_sign_in_from_another_site_is_refused(app: Flask, make_user: Callable[..., Any]) -> None:
    # Login CSRF: another site signing the reader in to the attacker's account.
    user = make_user()
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert client.get_cookie("session") is None


def test_register_from_a_cached_page_and_its_errors_keep_what_was_typed(app: Flask) -> None:
    client = app.test_client()
    short = client.post(
        "/register",
        data={"display_name": "Ada Reader", "email": "ada@example.org", "password": "short"},
        headers=SAME_ORIGIN,
    )
    assert short.status_code == 422
    page = short.get_data(as_text=True)
    assert 'value="Ada Reader"' in page and 'value="ada@example.org"' in page
    created = client.post(
        "/register",
        data={"display_name": "Ada Reader", "email": "ada@example.org", "password": PASSWORD},
        headers=SAME_ORIGIN,
    )
    assert created.status_code == 302
    assert client.get_cookie("session") is not None
    refused = app.test_client().post(
        "/register",
        data={"display_name": "Eve", "email": "eve@example.org", "password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403


def test_a_signed_in_reader_gets_tokens_in_the_forms(
    app: Flask, make_article: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    article = make_article(poll=True)
    api = Api(app.test_client())
    api.login(make_user())
    page = api.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    # and the page's own token works for the vote form
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert vote(api.client, article, {}, csrf_token=token).status_code == 302
