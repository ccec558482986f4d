from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from webapp.api import bp
from webapp.api.common import json_object, viewer
from webapp.api.serializers import comment_author_json, iso
from webapp.extensions import db
from webapp.ratelimits import limit_action
from webapp.security import signed_in_user
from webapp.services import comments as comment_rules
from webapp.services import polls as poll_rules
from webapp.services import thread_cache
from webapp.pagination import COMMENTS, decode_cursor, encode_cursor, parse_limit
from webapp.transactions import begin_writes, reads_first
from webapp.voters import current_voter_key


def node_json(node: comment_rules.CommentNode) -> dict[str, Any]:
    data = comment_json(node.comment)
    data.update(
        author_vote=node.author_vote,
        my_reaction=node.my_reaction,
        can_edit=node.editable,
        replies=[node_json(reply) for reply in node.replies],
    )
    if node.in_reply_to is not None:
        data["parent_id"] = node.in_reply_to[0]
        data["in_reply_to"] = {"id": node.in_reply_to[0], "display_name": node.in_reply_to[1]}
    return data


def comment_json(comment) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deleted = comment.deleted_at is not None
    author = comment.author
    return {
        "id": comment.id,
        "parent_id": comment.in_reply_to_id or comment.parent_id,
        "thread_parent_id": comment.parent_id,
        "author": comment_author_json(author, deleted),
        "html": comment.html,
        "created_at": iso(comment.created_at),
        "edited_at": iso(comment.edited_at),
        "featured": comment.featured_at is not None,
        "score": comment.score,
        "status": comment.status,
        "deleted": deleted,
        "in_reply_to": None,
    }


@bp.get("/articles/<slug>/comments")
def list_comments(slug: str):  # type: ignore[no-untyped-def]
    who = viewer()
    article = comment_rules.article_for_comments(slug, who)
    sort = request.args.get("sort", "oldest")
    limit = parse_limit(request.args.get("limit"))
    after = decode_cursor(request.args.get("cursor"), COMMENTS)
    featured = request.args.get("featured") in ("1", "true")
    # Commenters' poll answers only where this reader may see the results.
    answers = poll_rules.answers_visible_to(article.slug, who, current_voter_key(who))

    def answer() -> bytes:
        page = comment_rules.thread(
            article,
            who,
            sort=sort,
            limit=limit,
            after=after,
            featured_only=featured,
            answers_visible=answers,
        )
        return jsonify(
            items=[node_json(node) for node in page.items],
            next_cursor=encode_cursor(page.next_cursor, COMMENTS) if page.next_cursor else None,
        ).get_data()

    if who is not None:
        body = answer()
    else:
        # Signed out, everyone gets the same answer (webapp.services.thread_cache).
        key = ("api", article.id, article.comment_count, sort, limit, after, featured, answers)
        body = thread_cache.cached(_hashable(key), answer)
    return current_app.response_class(body, mimetype="application/json")


def _hashable(value: Any) -> Any:
    """A cursor is a list; a cache key must be hashable."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def enforce_comment_limits(user_id: int) -> None:
    """Posting counts per account and per address, the API and the page together."""
    limit_action("comment", account=user_id, client=request.remote_addr or "unknown")


@bp.post("/articles/<slug>/comments")
def post_comment(slug: str):  # type: ignore[no-untyped-def]
    # Read and score first; the write transaction then only writes (webapp.transactions).
    reads_first()
    user = signed_in_user()
    # The article as this worker read it a moment ago; the INSERT checks it still holds.
    article = comment_rules.article_for_posting(slug, user)
    payload = json_object()
    enforce_comment_limits(user.id)
    body, parent_id = payload.get("body"), payload.get("parent_id")
    comment = comment_rules.prepare(article, user, body, parent_id)
    begin_writes()
    if not comment_rules.store_if_unchanged(comment, article):
        # Closed, premoderated, unpublished or moved meanwhile: start again from it now.
        thread_cache.ARTICLES.clear()
        comment = comment_rules.prepare(
            comment_rules.article_for_comments(slug, user), user, body, parent_id
        )
        comment_rules.store(comment)
    # Every field is known once the row is flushed: answer from them, so the commit
    # (which expires the object) is not followed by a query reloading the row.
    body = comment_json(comment)
    body["reasons_held"] = comment.reasons_held if comment.status == "pending" else []
    db.session.commit()
    return jsonify(body), 201


@bp.patch("/comments/<int:comment_id>")
def edit_comment(comment_id: int):  # type: ignore[no-untyped-def]
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    payload = json_object()
    comment_rules.edit(comment, user, payload.get("body"))
    db.session.commit()
    return jsonify(comment_json(comment))


@bp.delete("/comments/<int:comment_id>")
def delete_comment(comment_id: int):  # type: ignore[no-untyped-def]
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    comment_rules.delete(comment, user)
    db.session.commit()
    return "", 204


@bp.post("/comments/<int:comment_id>/flags")
def flag_comment(comment_id: int):  # type: ignore[no-untyped-def]
    user = signed_in_user()
    limit_action("report", account=user.id)
    comment = comment_rules.get_comment(comment_id, user)
    payload = json_object()
    created = comment_rules.flag(comment, user, payload.get("reason"), payload.get("note"))
    db.session.commit()
    return jsonify(flagged=True, created=created), 201 if created else 200


@bp.post("/comments/<int:comment_id>/votes")
def react_to_comment(comment_id: int):  # type: ignore[no-untyped-def]
    user = signed_in_user()
    limit_action("react", account=user.id)
    comment = comment_rules.get_comment(comment_id, user)
    payload = json_object()
    score = comment_rules.react(comment, user, payload.get("value"))
    db.session.commit()
    return jsonify(score=score, my_reaction=payload.get("value"))
