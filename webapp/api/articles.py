"""/articles: the published list, one article, and the editors' create and edit.

Each view reads what the article's JSON shows (the article with its author, labels
and poll, its neighbours, the reader's vote) and hands it to ``article_json``, which
only shapes it; the list reads its whole page, neighbours, labels, polls and the
reader's votes included, as plain rows in two queries (``list_page.published_page``),
so its queries do not grow with ``limit``. A create or an edit re-reads the article
after its commit, as a reader would get it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from webapp.api import bp
from webapp.api.article_input import changes_from_json
from webapp.api.common import json_object, viewer
from webapp.api.serializers import article_json, listed_article_json
from webapp.extensions import db
from webapp.http_cache import ARTICLES_KEY, add_surrogate_keys, article_key
from webapp.models import Article, Role, User
from webapp.pagination import (
    ARTICLES,
    cursor_int,
    cursor_time,
    decode_key,
    encode_cursor,
    parse_limit,
)
from webapp.security import role_required, signed_in_user
from webapp.services import articles
from webapp.services import polls as poll_rules
from webapp.services.accounts import ensure_can_write
from webapp.services.articles import list_page
from webapp.voters import current_voter_key


def _article_json(article: Article, voter_key: str | None) -> dict[str, Any]:
    poll = article.poll
    my_vote = poll_rules.my_vote(poll, voter_key) if poll else None
    return article_json(article, articles.neighbours(article), poll, my_vote)


def _reread_json(slug: str, who: User) -> Response:
    """The article as stored once the change is committed (``who`` is an editor)."""
    return jsonify(_article_json(articles.get_article(slug, who), current_voter_key(who)))


@bp.get("/articles")
def list_articles() -> ResponseReturnValue:
    limit = parse_limit(request.args.get("limit"))
    after = decode_key(request.args.get("cursor"), ARTICLES, (cursor_time, cursor_int))
    listed, next_key = list_page.published_page(
        limit,
        (after[0], after[1]) if after else None,
        request.args.get("label") or None,
        current_voter_key(viewer()),
    )
    next_cursor = None
    if next_key is not None:
        when, last_id = next_key
        next_cursor = encode_cursor([when.isoformat(), last_id], ARTICLES)
    items = [listed_article_json(row) for row in listed]
    add_surrogate_keys(ARTICLES_KEY)
    return jsonify(items=items, next_cursor=next_cursor)


@bp.get("/articles/<slug>")
def get_article(slug: str) -> ResponseReturnValue:
    who = viewer()
    found = articles.get_article(slug, who)
    add_surrogate_keys(article_key(found.id), ARTICLES_KEY)  # it names its neighbours
    return jsonify(_article_json(found, current_voter_key(who)))


@bp.post("/articles")
@role_required(Role.EDITOR)
def create_article() -> ResponseReturnValue:
    changes = changes_from_json(json_object())
    author = signed_in_user()
    ensure_can_write(author)
    slug = articles.create_article(author, changes).slug
    db.session.commit()
    return _reread_json(slug, author), 201


@bp.patch("/articles/<slug>")
@role_required(Role.EDITOR)
def update_article(slug: str) -> ResponseReturnValue:
    editor = signed_in_user()
    article = articles.get_article(slug, editor)
    ensure_can_write(editor)
    changes = changes_from_json(json_object())
    slug = articles.update_article(article, changes).slug
    db.session.commit()
    return _reread_json(slug, editor)
