"""The frame a host page embeds (webapp/embed/): what it shows, who may frame it, and
that every form in it comes back to the frame (post/redirect/get), never to Pulse's
article page. On SQLite and PostgreSQL (the ``app`` fixture)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Article, Comment, Vote
from webapp.models.embed import EmbedThread
from webapp.services import embed as embed_rules

HOST = "https://news.example"
OTHER_HOST = "https://elsewhere.example"
PULSE = "http://localhost"  # the test client's own origin


@pytest.fixture
def site(make_user: Callable[..., Any]) -> Any:
    admin = make_user("admin")
    made = embed_rules.create_site(
        embed_rules.SiteSettings(
            name="The News Example",
            origins=f"{HOST}\nhttps://www.news.example",
            create_on_first_view=True,
            poll_allow_anonymous=True,
        ),
        admin,
    )
    db.session.commit()
    return made


@pytest.fixture
def polled(site: Any, make_article: Callable[..., Any]) -> Any:
    """An editor's article with an anonymous-friendly poll, attached as the thread
    ``story-1`` of the site."""
    article = make_article(
        "The bridge vote", poll={"allow_anonymous": True, "results_visibility": "always"}
    )
    embed_rules.attach_article(site, article, key="story-1")
    db.session.commit()
    return article


def frame_url(site: Any, thread: str = "story-1", origin: str = HOST, **extra: str) -> str:
    query = {"site": str(site.id), "thread": thread, "origin": origin, **extra}
    return "/embed/v1/thread?" + urlencode(query)


def frame_query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def test_the_frame_shows_the_poll_and_comments_framable_by_the_site_only(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    response = client.get(frame_url(site))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Will the peace hold?" in page
    assert 'id="comments"' in page
    # Framable by the site's origins, and only by them.
    policy = response.headers["Content-Security-Policy"]
    ancestors = re.search(r"frame-ancestors ([^;]*)", policy)
    assert ancestors is not None
    assert ancestors.group(1).split() == [HOST, "https://www.news.example"]
    assert "X-Frame-Options" not in response.headers
    # No site chrome: no masthead, no site search.
    assert "masthead" not in page and "site-search" not in page
    # The frame script posts its height to the origin the server checked.
    assert f'data-host-origin="{HOST}"' in page
    # Every form of the frame posts to the frame's doors.
    actions = re.findall(r'<form[^>]*action="([^"]*)"', page)
    assert actions
    assert all(action.startswith("/embed/v1/") for action in actions), actions
    # Pulse's own article page is unchanged: still not framable.
    own = client.get(f"/articles/{polled.slug}")
    assert own.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in own.headers["Content-Security-Policy"]


def test_dark_scheme_is_passed_to_the_frame(client: FlaskClient, site: Any, polled: Any) -> None:
    page = client.get(frame_url(site, scheme="dark")).get_data(as_text=True)
    assert '<html lang="en" data-scheme="dark">' in page
    page = client.get(frame_url(site, scheme="purple")).get_data(as_text=True)
    assert '<html lang="en" data-scheme="light">' in page


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ({"site": "999999"}, 404, "No site is registered"),
        ({"site": "abc"}, 404, "No site is registered"),
        ({"origin": OTHER_HOST}, 403, "do not list the page"),
        ({"origin": "javascript:alert(1)"}, 403, "do not list the page"),
        ({"origin": ""}, 403, "do not list the page"),
    ],
)
def test_unknown_site_or_origin_gets_a_small_page_that_no_one_can_frame(
    client: FlaskClient, site: Any, polled: Any, query: dict[str, str], status: int, says: str
) -> None:
    wanted = {"site": str(site.id), "thread": "story-1", "origin": HOST, **query}
    response = client.get("/embed/v1/thread?" + urlencode(wanted))
    assert response.status_code == status
    assert says in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_thread_that_may_not_be_created_says_so_in_the_frame(
    client: FlaskClient, site: Any
) -> None:
    site.create_on_first_view = False
    db.session.commit()
    response = client.get(frame_url(site, thread="never-made"))
    assert response.status_code == 404
    assert "has no discussion on Pulse yet" in response.get_data(as_text=True)
    # The site's own page may show why (the message is for its readers).
    assert "X-Frame-Options" not in response.headers
    assert HOST in response.headers["Content-Security-Policy"]


def test_first_view_makes_the_thread_with_the_pages_title(client: FlaskClient, site: Any) -> None:
    url = frame_url(site, thread="new-page", url=f"{HOST}/2026/new-page", title="A new page")
    response = client.get(url)
    assert response.status_code == 200
    assert "A new page" in response.get_data(as_text=True)
    assert client.get(url).status_code == 200
    # Kept, and the same thread again on the next view, not a second one.
    threads = db.session.query(EmbedThread).filter_by(site_id=site.id, key="new-page").all()
    assert len(threads) == 1
    assert db.session.query(Article).filter_by(title="A new page").count() == 1


def test_an_anonymous_vote_in_the_frame_comes_back_to_the_frame(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    page = client.get(frame_url(site)).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]*)" class="poll-form"', page)
    assert action is not None
    option = polled.poll.options[1]
    response = client.post(
        action.group(1).replace("&amp;", "&"),
        data={"option_id": option.id},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == "/embed/v1/thread"
    assert frame_query(location)["origin"] == [HOST]
    assert location.endswith("#poll")
    # The voter's cookie is the frame's: kept by browsers in a third-party frame only as
    # SameSite=None, Secure and Partitioned (CHIPS).
    voter = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("pulse_voter=")]
    assert len(voter) == 1
    assert "SameSite=None" in voter[0] and "Secure" in voter[0] and "Partitioned" in voter[0]
    assert db.session.query(Vote).filter_by(option_id=option.id).count() == 1
    # Back in the frame: the reader's vote is marked.
    again = client.get(location).get_data(as_text=True)
    assert "(your vote)" in again
    assert "Your vote is counted." in again


def test_a_vote_posted_from_another_site_is_refused(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    url = frame_url(site).replace("/thread?", "/poll?")
    response = client.post(
        url,
        data={"option_id": polled.poll.options[0].id},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert db.session.query(Vote).count() == 0


def _sign_in_frame(client: FlaskClient, site: Any, **claims: Any) -> Any:
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "reader-42",
            "name": "Ada Host",
            "email": "ada@news.example",
            "iat": now,
            "exp": now + 300,
            **claims,
        },
        site.secret,
        algorithm="HS256",
    )
    return client.post(
        frame_url(site).replace("/thread?", "/sso?"),
        data={"token": token},
        headers={"Sec-Fetch-Site": "same-origin"},
    )


def test_a_host_signed_reader_comments_in_the_frame(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    response = _sign_in_frame(client, site)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/embed/v1/thread"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'Signed in as <strong class="embed-user">Ada Host</strong>' in page
    form = re.search(r'<form method="post" action="([^"]*)" class="comment-form"', page)
    assert form is not None
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert csrf is not None  # the frame's session carries a token, as everywhere
    posted = client.post(
        form.group(1).replace("&amp;", "&"),
        data={"body": "Written inside the frame, on the host's page.", "csrf_token": csrf.group(1)},
    )
    assert posted.status_code == 302
    location = posted.headers["Location"]
    assert urlsplit(location).path == "/embed/v1/thread"
    comment = db.session.query(Comment).one()
    assert urlsplit(location).fragment == f"comment-{comment.id}"
    shown = client.get(location).get_data(as_text=True)
    assert "Written inside the frame" in shown and "Ada Host" in shown


def test_a_comment_form_without_the_token_is_refused_in_the_frame(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    _sign_in_frame(client, site)
    response = client.post(
        frame_url(site).replace("/thread?", "/comments?"),
        data={"body": "No token with this one."},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 403
    assert "Security check failed" in response.get_data(as_text=True)
    assert db.session.query(Comment).count() == 0


@pytest.mark.parametrize("problem", ["forged", "expired", "too-long"])
def test_a_bad_host_token_is_refused_with_a_message_in_the_frame(
    client: FlaskClient, site: Any, polled: Any, problem: str
) -> None:
    now = int(time.time())
    claims = {"sub": "reader-9", "name": "Mallory", "email": "m@news.example"}
    if problem == "forged":
        token = jwt.encode({**claims, "iat": now, "exp": now + 60}, "not the secret", "HS256")
    elif problem == "expired":
        token = jwt.encode({**claims, "iat": now - 900, "exp": now - 600}, site.secret, "HS256")
    else:
        token = jwt.encode({**claims, "iat": now, "exp": now + 86400}, site.secret, "HS256")
    response = client.post(
        frame_url(site).replace("/thread?", "/sso?"),
        data={"token": token},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not sign you in here" in page
    assert "The site&#39;s sign-in was refused" in page
    assert "Signed in as" not in page


def test_the_same_host_token_signs_in_once(
    client: FlaskClient, app: Flask, site: Any, polled: Any
) -> None:
    now = int(time.time())
    claims = {
        "sub": "r1",
        "name": "Once",
        "email": "once@news.example",
        "iat": now,
        "exp": now + 60,
    }
    token = jwt.encode(claims, site.secret, "HS256")
    url = frame_url(site).replace("/thread?", "/sso?")
    first = client.post(url, data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert "signin=refused" not in first.headers["Location"]
    other = app.test_client()
    second = other.post(url, data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert "signin=refused" in second.headers["Location"]


def test_the_pop_up_code_signs_the_frame_in(
    app: Flask, site: Any, polled: Any, make_user: Callable[..., Any]
) -> None:
    reader = make_user(name="Pop Reader", email="pop@example.org")
    first_party = app.test_client()
    # Not signed in on Pulse: the pop-up goes to Pulse's own sign-in, and back.
    response = first_party.get("/embed/v1/popup")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    login_page = first_party.get(response.headers["Location"])
    # The sign-in page on the pop-up's way keeps its opener (the frame)...
    assert login_page.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    # ...which Pulse's sign-in page otherwise never does.
    assert first_party.get("/login").headers["Cross-Origin-Opener-Policy"] == "same-origin"
    signed = first_party.post(
        "/login",
        data={
            "email": "pop@example.org",
            "password": "correct horse battery",
            "next": "/embed/v1/popup",
        },
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert signed.status_code == 302
    assert signed.headers["Location"].endswith("/embed/v1/popup")
    popup = first_party.get("/embed/v1/popup")
    assert popup.status_code == 200
    assert popup.headers["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert popup.headers["X-Frame-Options"] == "DENY"  # the pop-up is never framed
    code = re.search(r'data-code="([^"]+)"', popup.get_data(as_text=True))
    assert code is not None

    frame = app.test_client()
    redeem = frame.post(
        frame_url(site).replace("/thread?", "/code?"),
        data={"code": code.group(1)},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert redeem.status_code == 302
    page = frame.get(redeem.headers["Location"]).get_data(as_text=True)
    assert 'Signed in as <strong class="embed-user">Pop Reader</strong>' in page
    # Used once.
    again = app.test_client().post(
        frame_url(site).replace("/thread?", "/code?"),
        data={"code": code.group(1)},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    shown = app.test_client().get(again.headers["Location"]).get_data(as_text=True)
    assert reader.display_name not in shown


def test_signing_out_of_the_frame_refuses_the_earlier_host_token(
    client: FlaskClient, app: Flask, site: Any, polled: Any
) -> None:
    now = int(time.time()) - 5
    claims = {"sub": "r7", "name": "Sev", "email": "sev@news.example", "iat": now, "exp": now + 120}
    url = frame_url(site).replace("/thread?", "/sso?")
    client.post(
        url,
        data={"token": jwt.encode(claims, site.secret, "HS256")},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    page = client.get(frame_url(site)).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert csrf is not None and "Signed in as" in page
    out = client.post(
        frame_url(site).replace("/thread?", "/sign-out?"), data={"csrf_token": csrf.group(1)}
    )
    assert out.status_code == 302
    assert "Signed in as" not in client.get(out.headers["Location"]).get_data(as_text=True)
    # A copy of a token issued before the sign-out (another jti) signs no one in.
    replay = jwt.encode({**claims, "jti": "copy"}, site.secret, "HS256")
    again = app.test_client().post(
        url, data={"token": replay}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert "signin=refused" in again.headers["Location"]


def test_sort_links_and_sign_in_links_stay_in_the_frame(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    page = client.get(frame_url(site)).get_data(as_text=True)
    hrefs = re.findall(r'href="(/[^"]*)"', page)
    assert not [h for h in hrefs if h.startswith("/articles/")], hrefs
    assert any(h.startswith("/embed/v1/thread?") and "sort=newest" in h for h in hrefs)
    assert any(h.startswith("/embed/v1/sign-in?") for h in hrefs)
    sign_in = client.get(
        next(h for h in hrefs if h.startswith("/embed/v1/sign-in?")).replace("&amp;", "&")
    )
    assert sign_in.status_code == 200
    assert 'href="/embed/v1/popup"' in sign_in.get_data(as_text=True)


def test_a_comment_door_acts_only_on_its_frames_thread(
    client: FlaskClient, site: Any, polled: Any, make_article: Callable[..., Any]
) -> None:
    from webapp.services import comments

    elsewhere = make_article("Another story")
    _sign_in_frame(client, site)
    author = db.session.query(Comment).count()
    assert author == 0
    other_comment = comments.submit(elsewhere, elsewhere.author, "A comment on another story.")
    db.session.commit()
    page = client.get(frame_url(site)).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert csrf is not None
    response = client.post(
        frame_url(site).replace("/thread?", f"/comments/{other_comment.id}/react?"),
        data={"value": "1", "csrf_token": csrf.group(1)},
    )
    assert response.status_code == 404
    db.session.refresh(other_comment)
    assert other_comment.score == 0


def test_the_noscript_link_leads_to_the_thread_on_pulse(
    client: FlaskClient, site: Any, polled: Any
) -> None:
    response = client.get(f"/embed/v1/link?site={site.id}&thread=story-1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/articles/{polled.slug}#comments")
    assert client.get(f"/embed/v1/link?site={site.id}&thread=nothing").status_code == 404


def test_the_script_has_a_stable_address_and_a_versioned_one(client: FlaskClient) -> None:
    response = client.get("/embed/v1/embed.js")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "public, max-age=300"
    target = response.headers["Location"]
    assert re.fullmatch(r"/static/embed\.js\?v=[0-9a-f]{12}", target), target
    script = client.get(target)
    assert script.status_code == 200
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "javascript" in script.headers["Content-Type"]
    body = script.get_data()
    script.close()
    assert b"pulse:height" in body
    import gzip

    assert len(gzip.compress(body)) < 4096  # "a few kB gzipped"


def test_a_draft_attached_as_a_thread_is_not_shown_before_publication(
    client: FlaskClient, site: Any, make_article: Callable[..., Any]
) -> None:
    draft = make_article("Not out yet", status="draft", body="Secret plans for the bridge.")
    embed_rules.attach_article(site, draft, key="soon")
    db.session.commit()
    response = client.get(frame_url(site, thread="soon"))
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "not open yet" in page and "Not out yet" not in page
