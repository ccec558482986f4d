"""Fuzz the JSON API from its own OpenAPI document: no generated request may get a 5xx.

Schemathesis generates valid and invalid requests for every operation in the
document served at ``/api/v1/openapi.json`` (``tests/api/test_openapi.py`` checks
the served one is this one) and sends them to the WSGI app in-process. Requests
carry a real session, an admin's so that every role check passes and the views'
input handling is reached, and its CSRF token, so CSRF protection stays on. Path
parameters name live objects about half the time.

On top of what schemathesis makes from the document, the strings it generates are
sometimes spoiled with text no form would send: lone surrogates (in JSON bodies,
where ``"\\ud800"`` is valid JSON; a URL cannot carry one), C0 and C1 control
characters and NUL. The lists get hostile cursors: random base64, the old unsigned
format holding naive times, times past the calendar, huge numbers and wrong shapes,
the same values signed with the app's own key (so they reach the value checks),
forged signatures, and cursors of another list or another key.

SQLite only: this is about input handling; the PostgreSQL-only failures (NUL
characters, integers too large for INTEGER columns) are checked on both databases
in ``test_limits.py``, ``test_bad_input.py`` and ``tests/api/test_input_rules.py``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from webapp import create_app, pagination
from webapp.api.openapi import document
from webapp.extensions import db
from webapp.models import Base

PASSWORD = "correct horse battery"
SECRET_KEY = "fuzz-secret"
#: Random examples per operation, on top of schemathesis' own boundary cases.
#: Raise it for a longer hunt: PULSE_FUZZ_EXAMPLES=500 pytest tests/security/test_fuzz_api.py
MAX_EXAMPLES = int(os.environ.get("PULSE_FUZZ_EXAMPLES", "25"))

schema = schemathesis.openapi.from_dict(document())
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    # The session cookie and the CSRF header are supplied below, not generated.
    with_security_parameters=False,
    # The same requests every run, and no example database left in the work tree.
    deterministic=True,
    database="none",
)

#: Real values for path parameters, filled by the ``fresh_objects`` fixture.
REAL: dict[str, list[Any]] = {}
_NUMBERS = itertools.count(1)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """About half the time, point the generated path at seeded objects."""
    if not path_parameters or not REAL:
        return st.just(path_parameters)
    real = st.fixed_dictionaries(
        {
            name: st.sampled_from(REAL[name]) if REAL.get(name) else st.just(value)
            for name, value in path_parameters.items()
        }
    )
    return st.one_of(st.just(path_parameters), real)


# --- hostile strings and cursors -------------------------------------------------

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
CONTROLS = st.sampled_from([chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))])


def hostile_text(surrogates: bool) -> st.SearchStrategy[str]:
    pieces = [st.text(max_size=4), CONTROLS] + ([SURROGATES] if surrogates else [])
    return st.lists(st.one_of(pieces), min_size=1, max_size=6).map("".join)


def spoiled(value: Any, surrogates: bool) -> st.SearchStrategy[Any]:
    """``value`` with some of its strings replaced by, or ending in, hostile text."""
    if isinstance(value, str):
        bad = hostile_text(surrogates)
        return st.one_of(st.just(value), bad, bad.map(lambda tail: value + tail))
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: spoiled(v, surrogates) for k, v in value.items()})
    if isinstance(value, list):
        return st.tuples(*(spoiled(v, surrogates) for v in value)).map(list)
    return st.just(value)


#: What a cursor could decode to, sound or not: naive times, times past the ends of
#: the calendar, numbers no INTEGER column holds, other types, other shapes.
KEY_PART = st.one_of(
    st.datetimes().map(lambda when: when.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "2026-01-01"]),
    st.integers(min_value=2**31),
    st.integers(max_value=-(2**31) - 1),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
)
KEYS = st.one_of(
    st.lists(KEY_PART, max_size=3),
    KEY_PART,
    st.dictionaries(st.text(max_size=3), KEY_PART, max_size=2),
    st.lists(st.lists(KEY_PART, max_size=2), max_size=2),
)


def _base64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _forge(signed: str) -> str:
    """Another first character for the signature (its last one holds padding bits)."""
    payload, signature = signed.rsplit(".", 1)
    return f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def hostile_cursors(list_name: str) -> st.SearchStrategy[str]:
    ours = pagination.cursor_serializer(SECRET_KEY, list_name)
    other_list = next(name for name in pagination.LISTS if name != list_name)
    theirs = pagination.cursor_serializer(SECRET_KEY, other_list)
    other_key = URLSafeSerializer("another-secret", salt=f"pulse.cursor.{list_name}")
    return st.one_of(
        st.binary(max_size=48).map(_base64),
        KEYS.map(lambda keys: _base64(json.dumps(keys).encode())),
        KEYS.map(ours.dumps),
        KEYS.map(ours.dumps).map(_forge),
        KEYS.map(theirs.dumps),
        KEYS.map(other_key.dumps),
        hostile_text(surrogates=False),
    )


#: The lists that take a cursor, by their path in the document.
CURSOR_LISTS = {
    "/articles": pagination.ARTICLES,
    "/articles/{slug}/comments": pagination.COMMENTS,
    "/moderation/queue": pagination.MODERATION_QUEUE,
    "/moderation/log": pagination.MODERATION_LOG,
}


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """Hostile text in query strings (no surrogates: a URL cannot carry one), and on
    the lists a hostile cursor about a third of the time."""
    operation = context.operation
    list_name = None
    if operation is not None and operation.method.lower() == "get":
        list_name = CURSOR_LISTS.get(operation.path)
    if query is None and list_name is not None:
        query = {}
    if not isinstance(query, dict):
        return st.just(query)
    options = [st.just(query), spoiled(query, surrogates=False)]
    if list_name is not None:
        options.append(hostile_cursors(list_name).map(lambda cursor: {**query, "cursor": cursor}))
    return st.one_of(options)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Hostile text, lone surrogates included, in JSON bodies about half the time."""
    return st.one_of(st.just(body), spoiled(body, surrogates=True))


def _users() -> None:
    from webapp.models import Role
    from webapp.services.accounts import create_user

    for role in Role:
        create_user(f"{role.value}@fuzz.example", PASSWORD, role, f"Fuzz {role.value}")
    db.session.commit()


def _refresh() -> None:
    """Undo what earlier operations' requests did to the fixtures and point REAL at
    live objects: a new article with a poll and comments (some by the signed-in admin,
    so edits are allowed), no bans, no banned words, one suspect word."""
    from webapp.models import Comment, ModerationTerm, User
    from webapp.services import articles, comments, moderation

    users = {user.email.split("@")[0]: user for user in db.session.scalars(sa.select(User))}
    for user in users.values():
        user.banned_at = user.banned_until = user.ban_reason = None
    db.session.execute(sa.delete(ModerationTerm))
    db.session.commit()
    article = articles.create_article(
        users["editor"],
        articles.ArticleChanges(
            title=f"Will the peace hold {next(_NUMBERS)}",
            body="Some **reporting**.",
            labels=["World", "Peace"],
            status="published",
            poll=articles.PollInput(
                question="Will it hold?", options=["Yes", "No", "Too early"], allow_anonymous=True
            ),
        ),
    )
    hidden = articles.create_article(
        users["editor"],
        articles.ArticleChanges(
            title=f"Results after the vote {next(_NUMBERS)}",
            body="Text.",
            status="published",
            comments="premoderated",
            poll=articles.PollInput(
                question="Which?", options=["A", "B"], results_visibility="after_vote"
            ),
        ),
    )
    db.session.commit()
    first = comments.submit(article, users["reader"], "I think it will hold.")
    comments.submit(article, users["admin"], "Why?", first.id)
    for n in range(3):
        comments.submit(article, users["admin"], f"My comment number {n}.")
        comments.submit(article, users["reader"], f"Comment number {n}.")
    moderation.add_term(users["admin"], "scam", "suspect")
    db.session.commit()
    recent_comments = sa.select(Comment.id).where(Comment.deleted_at.is_(None))
    REAL.update(
        slug=[article.slug, hidden.slug],
        comment_id=list(db.session.scalars(recent_comments.order_by(Comment.id.desc()).limit(12))),
        user_id=[user.id for user in users.values()],
        term_id=list(db.session.scalars(sa.select(ModerationTerm.id))),
    )


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": f"sqlite:///{path}",
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        Base.metadata.create_all(db.engine)
        _users()
        db.session.remove()
    yield app
    REAL.clear()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def fresh_objects(fuzz_app: Flask) -> None:
    """Once per operation (not per example): live objects for its paths to name."""
    with fuzz_app.app_context():
        _refresh()
        db.session.remove()


@pytest.fixture(scope="module")
def session(fuzz_app: Flask) -> dict[str, Any]:
    """An admin's session cookie and its CSRF token, sent with every generated request."""
    client = fuzz_app.test_client()
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/auth/login",
        json={"email": "admin@fuzz.example", "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_json()
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"cookies": {"session": cookie.value}, "headers": {"X-CSRFToken": token}}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_gets_a_server_error(
    case: schemathesis.Case, fuzz_app: Flask, session: dict[str, Any]
) -> None:
    headers = dict(case.headers or {})
    headers.update(session["headers"])
    response = case.call(app=fuzz_app, headers=headers, cookies=session["cookies"])
    _count_hostile(case, response.status_code)
    # The point: never a 5xx. And where the document describes an answer, the
    # answer has that shape, so document and code cannot drift apart unnoticed.
    case.validate_response(
        response,
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )


#: What the run sent, to show the hostile input above is really generated.
SENT: Counter[str] = Counter()


def _count_hostile(case: schemathesis.Case, status: int) -> None:
    SENT["requests"] += 1
    cursor = (case.query or {}).get("cursor") if isinstance(case.query, dict) else None
    if isinstance(cursor, str) and cursor:
        SENT["cursors"] += 1
        SENT["cursors refused with 400"] += status == 400
    body, query = "".join(_strings(case.body)), "".join(_strings(case.query))
    if any(0xD800 <= ord(c) <= 0xDFFF for c in body):
        SENT["lone surrogates"] += 1
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in body + query):
        SENT["control characters"] += 1


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_the_run_sent_hostile_input() -> None:
    """Runs after the fuzz run (pytest keeps a file's order): each kind was sent."""
    if SENT["requests"] < 100:
        pytest.skip("the fuzz run above did not run (in full) in this session")
    for kind in ("cursors refused with 400", "lone surrogates", "control characters"):
        assert SENT[kind] >= 5, dict(SENT)
