"""The contract's comment routes: the thread, posting, editing, deleting, reactions and
reports.

The request side only: bodies arrive checked against their OpenAPI schemas
(``json_object``: a wrong type is 400), cursors are read here (``thread_key``), and
the service (``webapp.services.comments``) gets typed values and decides the rest.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from webapp import caching
from webapp.api import bp
from webapp.api.common import json_object, viewer
from webapp.api.serializers import comment_json, node_json
from webapp.extensions import db
from webapp.http_cache import add_surrogate_keys, article_key
from webapp.models import Comment, User
from webapp.pagination import (
    COMMENTS,
    cursor_float,
    cursor_int,
    decode_key,
    encode_cursor,
    parse_limit,
)
from webapp.ratelimits import limit_action
from webapp.security import signed_in_user
from webapp.services import comments as comment_rules
from webapp.services import polls as poll_rules
from webapp.services.notifications.settings import follows_account_default, remember_reply_choice
from webapp.transactions import begin_writes, expect_lone_write, reads_first
from webapp.voters import current_voter_key


def thread_key(cursor: str | None, sort: str = "oldest") -> comment_rules.ThreadKey | None:
    """The sort key a thread's cursor carries, or 400 for a cursor this list did not
    issue (or issued for a sort of another shape: "common_ground" pages end at
    (common ground, score, id), the others at two whole numbers). The article page
    shares these cursors."""
    if sort == "common_ground":
        key = decode_key(cursor, COMMENTS, (cursor_float, cursor_int, cursor_int))
        return None if key is None else (key[0], key[1], key[2])
    key = decode_key(cursor, COMMENTS, (cursor_int, cursor_int))
    return None if key is None else (key[0], key[1])


def thread_cursor(key: comment_rules.ThreadKey | None) -> str | None:
    """The cursor of the page after the one ending at ``key``; None on the last page."""
    return None if key is None else encode_cursor(list(key), COMMENTS)


@bp.get("/articles/<slug>/comments")
def list_comments(slug: str) -> ResponseReturnValue:
    who = viewer()
    article = comment_rules.article_for_comments(slug, who)
    add_surrogate_keys(article_key(article.id))
    sort = request.args.get("sort", "oldest")
    limit = parse_limit(request.args.get("limit"))
    after = thread_key(request.args.get("cursor"), sort)
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
            next_cursor=thread_cursor(page.next_cursor),
        ).get_data()

    if who is not None:
        body = answer()
    else:
        # Signed out, everyone gets the same answer (webapp.caching.THREADS).
        key = ("api", article.id, article.comment_count, sort, limit, after, featured, answers)
        body = caching.THREADS.get_or_build(key, answer)
    return current_app.response_class(body, mimetype="application/json")


def enforce_comment_limits(user_id: int) -> None:
    """Posting counts per account and per address, the API and the page together."""
    limit_action("comment", account=user_id, client=request.remote_addr or "unknown")


@bp.post("/articles/<slug>/comments")
def post_comment(slug: str) -> ResponseReturnValue:
    # Read and score first; the write transaction then only writes (webapp.transactions).
    reads_first()
    user = signed_in_user()
    # The article as this worker read it a moment ago; the INSERT checks it still holds.
    article = comment_rules.article_for_posting(slug, user)
    payload = json_object()
    # A POST sent again with the same Idempotency-Key gets the comment the first one
    # stored, and costs nothing against the rate limit.
    key = comment_rules.clean_key(request.headers.get("Idempotency-Key"))
    earlier = comment_rules.posted_with_key(user.id, key)
    if earlier is not None:
        return _posted_answer(earlier, user)
    enforce_comment_limits(user.id)
    body: str = payload["body"]
    parent_id: int | None = payload.get("parent_id")
    notify_replies = payload.get("notify_replies")
    # Left to the account's default, the subscription is written with the comment.
    by_default = follows_account_default(notify_replies)
    comment = comment_rules.prepare(article, user, body, parent_id)
    begin_writes()
    if key is None and by_default:
        # Nothing is written after the comment: no key to claim, no choice to keep.
        expect_lone_write()
    if not comment_rules.store_if_unchanged(comment, article, subscribe_by_default=by_default):
        # Closed, premoderated, unpublished or moved meanwhile: start again from it now.
        caching.POSTING_ARTICLES.clear()
        comment = comment_rules.prepare(
            comment_rules.article_for_comments(slug, user), user, body, parent_id
        )
        comment_rules.store(comment, subscribe_by_default=by_default)
    if not comment_rules.claim_key(comment, key):
        # The same POST, sent twice at once: the other one stored it.
        db.session.rollback()
        earlier = comment_rules.posted_with_key(user.id, key)
        assert earlier is not None
        return _posted_answer(earlier, user)
    if not by_default:
        remember_reply_choice(comment, user, notify_replies)
    # Every field is known once the row is flushed: answer from them, so the commit
    # (which expires the object) is not followed by a query reloading the row.
    posted = comment_json(comment, user)
    posted["reasons_held"] = comment.reasons_held if comment.status == "pending" else []
    db.session.commit()
    return jsonify(posted), 201


def _posted_answer(comment: Comment, user: User) -> ResponseReturnValue:
    posted = comment_json(comment, user)
    posted["reasons_held"] = comment.reasons_held if comment.status == "pending" else []
    return jsonify(posted), 201


@bp.patch("/comments/<int:comment_id>")
def edit_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    payload = json_object()
    comment_rules.edit(comment, user, payload["body"])
    # Answered from the flushed fields (only its author edits a comment), before the
    # commit expires them.
    edited = comment_json(comment, user)
    db.session.commit()
    return jsonify(edited)


@bp.delete("/comments/<int:comment_id>")
def delete_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    comment_rules.delete(comment, user)
    db.session.commit()
    return "", 204


@bp.post("/comments/<int:comment_id>/flags")
def flag_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    limit_action("report", account=user.id)
    comment = comment_rules.get_comment(comment_id, user)
    payload = json_object()
    reason: str = payload["reason"]
    note: str | None = payload.get("note")
    created = comment_rules.flag(comment, user, reason, note)
    db.session.commit()
    return jsonify(flagged=True, created=created), 201 if created else 200


@bp.post("/comments/<int:comment_id>/votes")
def react_to_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    limit_action("react", account=user.id)
    comment = comment_rules.get_comment(comment_id, user)
    payload = json_object()
    value: int = payload["value"]
    score = comment_rules.react(comment, user, value)
    db.session.commit()
    return jsonify(score=score, my_reaction=value)
