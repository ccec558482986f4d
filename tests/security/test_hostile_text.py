"""Hostile text is a class, not a list of routes.

Text no column can store (a lone surrogate, NUL, bytes that are not UTF-8) is a
malformed request wherever it appears: every string of every JSON body, every
field of every form, every query string. It answers 400 (the contract's error
body under /api, a page elsewhere) and stores nothing. Text that can be stored
but holds control characters is cleaned by the services, so one article can no
longer break the Atom feed for every subscriber; the feed strips what XML forbids
anyway, for rows written before or around the services.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from tests.conftest import PASSWORD, Api
from tests.security.routes import (
    UNSAFE,
    Visitor,
    World,
    app_routes,
    request_bodies,
    route_url,
    visitor,
)
from webapp.extensions import db
from webapp.text import clean_block, clean_line, has_unstorable, xml_safe

SURROGATE = "\ud800"
CONTROLS = "\x01\x07\x0b\x0c\x1b\x7f\x85\x9b\ufffe"
ATOM = "{http://www.w3.org/2005/Atom}"

#: Valid fields the shared request bodies leave out, so every text field a route
#: reads is spoiled in turn.
MORE_FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    ("api.create_article", "POST"): {
        "summary": "Short.",
        "labels": ["World", "Asia"],
        "poll": {"question": "Will it hold?", "options": ["Yes", "No"]},
    },
    ("api.update_article", "PATCH"): {"summary": "Short.", "labels": ["World"], "body": "Text."},
    ("api.flag_comment", "POST"): {"note": "Looks like an advert."},
    ("api.moderate_comment", "POST"): {"reason": "Off topic."},
    ("api.moderate_comments", "POST"): {"reason": "Off topic."},
}
SIGNED_OUT_ROUTES = {"api.login", "api.register", "auth.login", "auth.register"}


def _fingerprint() -> dict[str, list[str]]:
    """Every row of every table: equal before and after means nothing was stored."""
    db.session.rollback()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


def _spoiled(body: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted field name, a copy of ``body`` whose string there holds a lone surrogate),
    for every string in ``body``."""
    if isinstance(body, str):
        yield name, f"{body}{SURROGATE}"
    elif isinstance(body, dict):
        for key, value in body.items():
            for field, spoiled in _spoiled(value, f"{name}.{key}" if name else key):
                yield field, {**body, key: spoiled}
    elif isinstance(body, list):
        for index, value in enumerate(body):
            for field, spoiled in _spoiled(value, f"{name}.{index}"):
                yield field, [*body[:index], spoiled, *body[index + 1 :]]


def _routes_with_bodies(app: Flask, world: World, api: bool) -> list[tuple[str, str, str, Any]]:
    found = []
    bodies = request_bodies(world)
    for (endpoint, method), arguments in sorted(app_routes(app).items()):
        body = bodies.get((endpoint, method))
        if method not in UNSAFE or body is None or endpoint.startswith("api.") != api:
            continue
        with app.test_request_context():
            url = route_url(endpoint, arguments, world)
        found.append((endpoint, method, url, {**body, **MORE_FIELDS.get((endpoint, method), {})}))
    return found


@pytest.fixture
def visitors(app: Flask, make_user: Callable[..., Any]) -> Callable[[str], Visitor]:
    """The admin (who may call everything), or nobody for the signed-out routes."""
    admin, anonymous = visitor(app, make_user("admin")), visitor(app, None)
    return lambda endpoint: anonymous if endpoint in SIGNED_OUT_ROUTES else admin


# --- text that cannot be stored ----------------------------------------------


def test_a_lone_surrogate_in_any_string_of_any_json_body_is_400_and_stores_nothing(
    app: Flask, visitors: Callable[[str], Visitor], world_factory: Callable[[], World]
) -> None:
    world = world_factory()
    checked = set()
    for endpoint, method, url, body in _routes_with_bodies(app, world, api=True):
        who = visitors(endpoint)
        cases = [*_spoiled(body), ("body", {f"title{SURROGATE}": "a key", **body})]
        for field, hostile in cases:
            before = _fingerprint()
            response = who.client(app).open(
                url, method=method, json=hostile, headers={"X-CSRFToken": who.token}
            )
            assert response.status_code == 400, (endpoint, field, response.get_json())
            error = response.get_json()["error"]
            assert error["code"] == "malformed_request"
            assert error["message"]
            assert field in error["fields"], (endpoint, field, error)
            assert _fingerprint() == before, (endpoint, field)
            checked.add((endpoint, field))
    # The routes the issue names, each field that carries people's words.
    assert {
        ("api.login", "email"),
        ("api.login", "password"),
        ("api.register", "display_name"),
        ("api.post_comment", "body"),
        ("api.edit_comment", "body"),
        ("api.flag_comment", "note"),
        ("api.create_article", "title"),
        ("api.create_article", "labels.1"),
        ("api.create_article", "poll.question"),
        ("api.create_article", "poll.options.1"),
        ("api.update_article", "labels.0"),
        ("api.moderate_comment", "reason"),
        ("api.ban_user", "reason"),
        ("api.add_term", "term"),
    } <= checked


def test_surrogates_sent_as_raw_bytes_in_json_are_refused_too(api: Api) -> None:
    # CESU-8 bytes for U+D800: Python's json.loads reads them as a lone surrogate.
    for raw in (
        b'{"email": "a\xed\xa0\x80@example.org", "password": "long enough pass"}',
        b'{"email": "a\xff@example.org", "password": "long enough pass"}',
    ):
        response = api.client.post(
            "/api/v1/auth/login",
            data=raw,
            headers={"X-CSRFToken": api.token, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, raw
        assert response.get_json()["error"]["code"] == "malformed_request"


def _form_bytes(data: dict[str, str]) -> bytes:
    # "surrogatepass" writes U+D800 as %ED%A0%80, the way a broken client would.
    return urllib.parse.urlencode(data, encoding="utf-8", errors="surrogatepass").encode()


def test_a_form_field_that_is_not_utf8_is_a_400_page_and_stores_nothing(
    app: Flask, visitors: Callable[[str], Visitor], world_factory: Callable[[], World]
) -> None:
    world = world_factory()
    for endpoint, method, url, body in _routes_with_bodies(app, world, api=False):
        who = visitors(endpoint)
        for field, value in body.items():
            for hostile in (
                _form_bytes({**body, field: f"{value}{SURROGATE}"}),  # %ED%A0%80
                _form_bytes(body).replace(f"{field}=".encode(), f"{field}=\xff".encode("latin-1")),
            ):
                before = _fingerprint()
                response = who.client(app).open(
                    url,
                    method=method,
                    data=hostile,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-CSRFToken": who.token},
                )
                assert response.status_code == 400, (endpoint, field, hostile)
                assert response.mimetype == "text/html"
                assert _fingerprint() == before, (endpoint, field)


def test_a_multipart_form_with_bad_bytes_is_never_a_500(
    app: Flask, visitors: Callable[[str], Visitor], world_factory: Callable[[], World]
) -> None:
    world = world_factory()
    who = visitors("public.post_comment")
    with app.test_request_context():
        url = route_url("public.post_comment", {"slug"}, world)
    part = (
        b'--edge\r\nContent-Disposition: form-data; name="body"\r\n\r\n'
        b"Bad \xed\xa0\x80 and \xff bytes\r\n"
        b'--edge\r\nContent-Disposition: form-data; name="na\xffme"\r\n\r\nx\r\n--edge--\r\n'
    )
    response = who.client(app).post(
        url,
        data=part,
        content_type="multipart/form-data; boundary=edge",
        headers={"X-CSRFToken": who.token},
    )
    assert response.status_code < 500


def test_a_query_string_that_is_not_utf8_is_400_on_every_page_and_route(
    app: Flask, visitors: Callable[[str], Visitor], world_factory: Callable[[], World]
) -> None:
    world = world_factory()
    who = visitors("any")
    for (endpoint, method), arguments in sorted(app_routes(app).items()):
        if method != "GET":
            continue
        with app.test_request_context():
            url = route_url(endpoint, arguments, world)
        for query in ("q=%ED%A0%80", "q=%FF", "q=\xff", "q=%00", "%ED%A0%80=1"):
            response = who.client(app).get(url, environ_overrides={"QUERY_STRING": query})
            assert response.status_code == 400, (endpoint, query)
            if endpoint.startswith("api."):
                assert response.get_json()["error"]["code"] == "malformed_request"
            else:
                assert response.mimetype == "text/html", (endpoint, query)


# --- control characters ---------------------------------------------------------


def test_control_characters_are_stripped_from_every_field_of_an_article(
    api: Api, make_user: Callable[..., Any]
) -> None:
    from webapp.models import Article

    api.login(make_user("editor"))
    response = api.post(
        "/api/v1/articles",
        {
            "title": f"Breaking{CONTROLS} news\r\n",
            "summary": "Two\x01 lines\r\nof summary",
            "body": "First\x1b[31m line\r\nsecond\tline\rthird\x07",
            "labels": [f"Wor{CONTROLS}ld", "Asia\x01"],
            "poll": {"question": "Will it\x02 hold?", "options": ["Yes\x03", "No\x0b"]},
            "status": "published",
        },
    )
    assert response.status_code == 201, response.get_json()
    article = db.session.scalar(select(Article).where(Article.id == response.get_json()["id"]))
    assert article is not None
    assert article.title == "Breaking news"
    assert article.summary == "Two lines of summary"
    assert article.body == "First[31m line\nsecond\tline\nthird"
    assert sorted(label.name for label in article.labels) == ["Asia", "World"]
    assert article.poll is not None
    assert article.poll.question == "Will it hold?"
    assert [option.label for option in article.poll.options] == ["Yes", "No"]

    only_controls = api.patch(f"/api/v1/articles/{article.slug}", {"title": "\x01\x02"})
    assert only_controls.status_code == 422
    assert only_controls.get_json()["error"]["fields"]["title"] == "required"


def test_control_characters_are_stripped_from_comments_reports_reasons_names_and_terms(
    api: Api, make_api: Callable[[], Api], make_user: Callable[..., Any], make_article: Any
) -> None:
    from webapp.models import Comment, CommentFlag, ModerationAction, ModerationTerm, User

    story = make_article()
    registered = api.post(
        "/api/v1/auth/register",
        {"email": "ctl@example.org", "password": PASSWORD, "display_name": "Ma\x07ry\x1b\tAnn\r\n"},
    )
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["display_name"] == "Mary Ann"
    posted = api.post(
        f"/api/v1/articles/{story.slug}/comments", {"body": "Hello\x1b[2J there\r\nfriend\x7f"}
    )
    assert posted.status_code == 201, posted.get_json()
    comment_id = posted.get_json()["id"]
    edited = api.patch(f"/api/v1/comments/{comment_id}", {"body": "Edited\x08 words\r\nhere"})
    assert edited.status_code == 200, edited.get_json()

    moderator = make_api()
    moderator.login(make_user("moderator"))
    flagged = moderator.post(
        f"/api/v1/comments/{comment_id}/flags", {"reason": "other", "note": "See\x01 this"}
    )
    assert flagged.status_code == 201, flagged.get_json()
    term = moderator.post(
        "/api/v1/moderation/terms", {"term": "bad\x01 word\x0b", "kind": "banned"}
    )
    assert term.status_code == 201, term.get_json()
    rejected = moderator.post(
        f"/api/v1/moderation/comments/{comment_id}", {"action": "reject", "reason": "No\x1b thanks"}
    )
    assert rejected.status_code == 200, rejected.get_json()
    author = db.session.scalar(select(User).where(User.email == "ctl@example.org"))
    assert author is not None
    banned = moderator.post(
        f"/api/v1/moderation/users/{author.id}/ban", {"reason": "Spam\x07ming\r\nagain"}
    )
    assert banned.status_code == 200, banned.get_json()

    db.session.rollback()
    assert author.display_name == "Mary Ann"
    assert author.ban_reason == "Spamming again"
    comment = db.session.get(Comment, comment_id)
    assert comment is not None
    assert comment.body == "Edited words\nhere"
    assert comment.rejection_reason == "No thanks"
    assert db.session.scalar(select(CommentFlag.note)) == "See this"
    assert db.session.scalar(select(ModerationTerm.term)) == "bad word"
    reasons = set(db.session.scalars(select(ModerationAction.reason)))
    assert {"No thanks", "Spamming again"} <= reasons


def _feed_entries(api: Api) -> list[ElementTree.Element]:
    response = api.get("/feed.atom")
    assert response.status_code == 200
    return ElementTree.fromstring(response.data).findall(f"{ATOM}entry")


def test_the_feed_stays_well_formed_whatever_an_article_holds(
    api: Api,
    make_api: Callable[[], Api],
    make_user: Callable[..., Any],
    make_article: Callable[..., Any],
) -> None:
    from webapp.models import Article, Label, User

    editor = make_api()
    editor.login(make_user("editor"))
    written = editor.post(
        "/api/v1/articles",
        {
            "title": "Bell\x07 rings",
            "body": "Text\x01.",
            "labels": ["Al\x1bert"],
            "status": "published",
        },
    )
    assert written.status_code == 201, written.get_json()
    assert [e.findtext(f"{ATOM}title") for e in _feed_entries(api)] == ["Bell rings"]

    # Rows written before these rules, or straight to the database, hold anything
    # a text column stores: the feed must still parse.
    story = make_article("Older story", labels=["Asia"])
    db.session.execute(
        update(Article)
        .where(Article.id == story.id)
        .values(
            title="Old\x01 title\x0b\ufffe",
            summary="Sum\x1bmary",
            html="<p>Bo\x02dy</p>",
        )
    )
    db.session.execute(update(User).where(User.id == story.author_id).values(display_name="Ed\x03"))
    db.session.execute(update(Label).where(Label.slug == "asia").values(name="As\x04ia"))
    db.session.commit()
    entries = {e.findtext(f"{ATOM}title"): e for e in _feed_entries(api)}
    assert set(entries) == {"Bell rings", "Old title"}
    old = entries["Old title"]
    assert old.findtext(f"{ATOM}summary") == "Summary"
    assert old.findtext(f"{ATOM}author/{ATOM}name") == "Ed"
    assert old.find(f"{ATOM}category").get("label") == "Asia"  # type: ignore[union-attr]
    assert "Body" in (old.findtext(f"{ATOM}content") or "")


# --- labels ------------------------------------------------------------------------


def test_thousands_of_labels_are_refused_with_a_field_message(
    api: Api, make_user: Callable[..., Any], make_article: Callable[..., Any]
) -> None:
    api.login(make_user("editor"))
    labels = [f"label {n}" for n in range(9000)]
    response = api.post(
        "/api/v1/articles", {"title": "Many labels", "body": "Text.", "labels": labels}
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"labels"}
    story = make_article()
    response = api.patch(f"/api/v1/articles/{story.slug}", {"labels": labels})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"labels"}
    response = api.patch(f"/api/v1/articles/{story.slug}", {"labels": ["x" * 61]})
    assert response.status_code == 422
    assert "labels" in response.get_json()["error"]["fields"]


def test_the_label_count_is_checked_before_any_label_is_looked_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from webapp.services import articles
    from webapp.services.articles import rules

    def looked_at(*_: Any) -> str:
        raise AssertionError("a label was looked at before the count was checked")

    with monkeypatch.context() as patched:
        patched.setattr(rules, "clean_line", looked_at)
        patched.setattr(rules, "slugify", looked_at)
        assert articles.clean_labels(["World"] * 9000) == ([], "at most 10 labels")
        assert articles.clean_labels(["World"] * (articles.MAX_LABELS + 1))[1]
    # Within the count, repeats in any case and blanks count once: the first spelling stays.
    assert articles.clean_labels(["World", " world ", "", "WORLD", "Asia\x01"]) == (
        ["World", "Asia"],
        None,
    )


def test_the_editor_form_forgives_a_trailing_comma_after_ten_labels(
    api: Api, make_user: Callable[..., Any]
) -> None:
    from webapp.models import Article

    api.login(make_user("editor"))
    labels = ", ".join(f"Topic {n}" for n in range(10)) + ", "
    response = api.form(
        "/editor/articles/new",
        {"title": "Ten labels", "body": "Text.", "labels": labels, "action": "save"},
    )
    assert response.status_code == 302
    article = db.session.scalar(select(Article).where(Article.title == "Ten labels"))
    assert article is not None and len(article.labels) == 10


# --- the cleaning rules themselves ---------------------------------------------------


XML_FORBIDS = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {"\ufffe", "\uffff"}


@given(st.text())
def test_a_cleaned_line_holds_no_control_character_and_no_line_break(text: str) -> None:
    line = clean_line(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)
    assert not has_unstorable(line)
    assert line == line.strip() and "  " not in line
    assert clean_line(line) == line


@given(st.text())
def test_a_cleaned_block_keeps_only_tabs_and_line_feeds(text: str) -> None:
    block = clean_block(text)
    assert not any((ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in block)
    assert not has_unstorable(block)
    assert clean_block(block) == block


@given(st.text())
def test_any_text_made_xml_safe_parses_inside_an_xml_document(text: str) -> None:
    from markupsafe import escape

    safe = xml_safe(str(escape(text)))
    assert not XML_FORBIDS & set(safe)
    ElementTree.fromstring(f"<t>{safe}</t>".encode())


def test_has_unstorable_finds_nul_and_lone_surrogates_only() -> None:
    assert has_unstorable("a\x00b") and has_unstorable("a\ud800") and has_unstorable("\udfff")
    assert not has_unstorable("emoji \U0001f600 and \x01 and \ufffe")
