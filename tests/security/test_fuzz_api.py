"""Fuzz the JSON API from its own OpenAPI document: no generated request may get a 5xx.

Schemathesis generates valid and invalid requests for every operation in the
document served at ``/api/v1/openapi.json`` (``tests/api/test_openapi.py`` checks
the served one is this one) and sends them to the WSGI app in-process. Requests
carry a real session, an admin's so that every role check passes and the views'
input handling is reached, and its CSRF token, so CSRF protection stays on. Path
parameters name live objects about half the time. SQLite only: this is about
input handling; the PostgreSQL-only failures (NUL characters, integers too large
for INTEGER columns) are checked on both databases in ``test_limits.py``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from webapp import create_app
from webapp.api.openapi import document
from webapp.extensions import db
from webapp.models import Base

PASSWORD = "correct horse battery"
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
    moderation.add_term("scam", "suspect")
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
            "SECRET_KEY": "fuzz-secret",
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
    # The point: never a 5xx. And where the document describes an answer, the
    # answer has that shape, so document and code cannot drift apart unnoticed.
    case.validate_response(
        response,
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
