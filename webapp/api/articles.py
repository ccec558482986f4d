from __future__ import annotations

from flask import jsonify, request

from webapp.api import bp
from webapp.api.common import json_object, viewer
from webapp.api.serializers import article_json
from webapp.extensions import db
from webapp.models import Role
from webapp.security import role_required, signed_in_user
from webapp.services import articles
from webapp.services.accounts import ensure_can_write
from webapp.pagination import ARTICLES, decode_cursor, encode_cursor, parse_limit
from webapp.voters import current_voter_key


@bp.get("/articles")
def list_articles():  # type: ignore[no-untyped-def]
    limit = parse_limit(request.args.get("limit"))
    after = decode_cursor(request.args.get("cursor"), ARTICLES)
    rows, next_key = articles.list_published(limit, after, request.args.get("label") or None)
    key = current_voter_key(viewer())
    return jsonify(
        items=[article_json(article, key) for article in rows],
        next_cursor=encode_cursor(next_key, ARTICLES) if next_key else None,
    )


@bp.get("/articles/<slug>")
def get_article(slug: str):  # type: ignore[no-untyped-def]
    who = viewer()
    article = articles.get_article(slug, who)
    return jsonify(article_json(article, current_voter_key(who)))


@bp.post("/articles")
@role_required(Role.EDITOR)
def create_article():  # type: ignore[no-untyped-def]
    changes = articles.changes_from_json(json_object())
    author = signed_in_user()
    ensure_can_write(author)
    article = articles.create_article(author, changes)
    db.session.commit()
    return jsonify(article_json(article, current_voter_key(viewer()))), 201


@bp.patch("/articles/<slug>")
@role_required(Role.EDITOR)
def update_article(slug: str):  # type: ignore[no-untyped-def]
    article = articles.get_article(slug, signed_in_user())
    ensure_can_write(signed_in_user())
    changes = articles.changes_from_json(json_object())
    articles.update_article(article, changes)
    db.session.commit()
    return jsonify(article_json(article, current_voter_key(viewer())))
