"""The contract's Moderation API, plus bulk decisions, unbans, settings and word lists."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import jsonify, request

from webapp.api import bp
from webapp.api.comments import comment_json
from webapp.api.common import json_object
from webapp.api.serializers import iso, user_json
from webapp.errors import InvalidInput, MalformedRequest, NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import Comment, ModerationAction, ModerationActionKind, Role, User
from webapp.security import role_required, signed_in_user
from webapp.services import moderation, moderation_actions, moderation_queue
from webapp.pagination import (
    MODERATION_LOG,
    MODERATION_QUEUE,
    cursor_int,
    decode_cursor,
    encode_cursor,
    parse_limit,
)
from webapp.services.site_settings import moderation_settings, update_moderation_settings

moderator_only = role_required(Role.MODERATOR)


def queue_item_json(item: moderation_queue.QueueItem) -> dict[str, Any]:
    comment = item.comment
    data = comment_json(comment)
    data.update(
        body=comment.body,
        article={"slug": item.article.slug, "title": item.article.title},
        flags=[{"reason": reason, "count": count} for reason, count in item.flags],
        flag_count=comment.flag_count,
        open_reports=item.open_reports,
        report_notes=[{"reason": reason, "note": note} for reason, note in item.notes],
        reasons_held=list(comment.reasons_held or []),
        toxicity=comment.toxicity,
        sentiment=comment.sentiment,
        sentiment_label=comment.sentiment_label,
        rejection_reason=comment.rejection_reason,
        reported_at=iso(comment.reported_at),
        moderated_at=iso(comment.moderated_at),
        parent=None
        if item.parent is None
        else {
            "id": item.parent.id,
            "author": item.parent.author.display_name,
            "html": item.parent.html,
        },
        author_history={
            "comments": item.author.comments,
            "published": item.author.published,
            "rejected": item.author.rejected,
            "flags_received": item.author.flags_received,
            "joined_at": iso(item.author.joined_at),
            "account_age_days": item.author.account_age_days(),
            "banned": item.author.banned,
        },
    )
    return data


def action_json(entry: ModerationAction) -> dict[str, Any]:
    return {
        "id": entry.id,
        "action": entry.action,
        "moderator": {"id": entry.actor.id, "display_name": entry.actor.display_name},
        "comment_id": entry.comment_id,
        "user": None
        if entry.target_user is None
        else {"id": entry.target_user.id, "display_name": entry.target_user.display_name},
        "reason": entry.reason,
        "details": entry.details,
        "created_at": iso(entry.created_at),
    }


def _comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    return comment


def _single_item(comment: Comment) -> dict[str, Any]:
    history = moderation_queue.author_histories({comment.author_id})[comment.author_id]
    parent_id = comment.in_reply_to_id or comment.parent_id
    parent = db.session.get(Comment, parent_id) if parent_id else None
    flags = [(f["reason"], f["count"]) for f in _flag_counts(comment.id)]
    notes = [(f.reason, f.note) for f in moderation_queue.report_notes(comment.id) if f.note]
    return queue_item_json(
        moderation_queue.QueueItem(
            comment,
            comment.article,
            parent,
            flags,
            history,
            notes,
            open_reports=moderation_queue.open_report_counts([comment.id]).get(comment.id, 0),
        )
    )


def _flag_counts(comment_id: int) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for flag in moderation_queue.report_notes(comment_id):
        counts[flag.reason] = counts.get(flag.reason, 0) + 1
    return [{"reason": r, "count": n} for r, n in sorted(counts.items(), key=lambda x: -x[1])]


@bp.get("/moderation/queue")
@moderator_only
def moderation_queue_list():  # type: ignore[no-untyped-def]
    items, next_key = moderation_queue.queue(
        request.args.get("status", "pending"),
        parse_limit(request.args.get("limit")),
        decode_cursor(request.args.get("cursor"), MODERATION_QUEUE),
    )
    return jsonify(
        items=[queue_item_json(item) for item in items],
        next_cursor=encode_cursor(next_key, MODERATION_QUEUE) if next_key else None,
        counts=moderation_queue.queue_counts(),
    )


@bp.post("/moderation/comments/<int:comment_id>")
@moderator_only
def moderate_comment(comment_id: int):  # type: ignore[no-untyped-def]
    payload = json_object()
    comment = _comment(comment_id)
    moderation_actions.decide(
        comment, signed_in_user(), payload.get("action"), payload.get("reason")
    )
    db.session.commit()
    return jsonify(_single_item(comment))


@bp.post("/moderation/comments")
@moderator_only
def moderate_comments():  # type: ignore[no-untyped-def]
    payload = json_object()
    decided = moderation_actions.decide_many(
        payload["ids"], signed_in_user(), payload.get("action"), payload.get("reason")
    )
    db.session.commit()
    return jsonify(items=[_single_item(comment) for comment in decided])


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _banned_user_json(user: User) -> dict[str, Any]:
    return {
        **user_json(user),
        "banned": user.banned_at is not None,
        "banned_at": iso(user.banned_at),
        "banned_until": iso(user.banned_until),
        "ban_reason": user.ban_reason,
    }


@bp.post("/moderation/users/<int:user_id>/ban")
@moderator_only
def ban_user(user_id: int):  # type: ignore[no-untyped-def]
    payload = json_object()
    user = moderation_actions.ban(
        _user(user_id), signed_in_user(), payload.get("reason"), payload.get("until")
    )
    db.session.commit()
    return jsonify(_banned_user_json(user))


@bp.post("/moderation/users/<int:user_id>/unban")
@moderator_only
def unban_user(user_id: int):  # type: ignore[no-untyped-def]
    payload = json_object()  # optional: no body is no reason
    user = moderation_actions.unban(_user(user_id), signed_in_user(), payload.get("reason"))
    db.session.commit()
    return jsonify(_banned_user_json(user))


def _id_arg(name: str) -> int | None:
    """An id to filter by: not a whole number is 400, not a possible id 422."""
    raw = request.args.get(name)
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise MalformedRequest(
            f"{name} must be a whole number.", fields={name: "must be a whole number"}
        )
    number = int(raw) if len(raw) <= 12 else 0
    if not is_id(number):
        raise InvalidInput(f"{name} is not a valid id.", fields={name: "not a valid id"})
    return number


def _action_arg() -> str | None:
    action = request.args.get("action") or None
    if action is not None and action not in {kind.value for kind in ModerationActionKind}:
        raise InvalidInput(
            "action is not a kind of moderation action.", fields={"action": "unknown"}
        )
    return action


@bp.get("/moderation/log")
@moderator_only
def moderation_log():  # type: ignore[no-untyped-def]
    cursor = decode_cursor(request.args.get("cursor"), MODERATION_LOG)
    rows, next_key = moderation_queue.audit_log(
        parse_limit(request.args.get("limit")),
        cursor_int(cursor[0]) if cursor else None,
        action=_action_arg(),
        actor_id=_id_arg("moderator_id"),
        user_id=_id_arg("user_id"),
        comment_id=_id_arg("comment_id"),
    )
    return jsonify(
        items=[action_json(entry) for entry in rows],
        next_cursor=encode_cursor([next_key], MODERATION_LOG) if next_key else None,
    )


@bp.get("/moderation/settings")
@moderator_only
def get_settings():  # type: ignore[no-untyped-def]
    return jsonify(asdict(moderation_settings()))


@bp.patch("/moderation/settings")
@moderator_only
def patch_settings():  # type: ignore[no-untyped-def]
    settings = update_moderation_settings(signed_in_user(), json_object())
    db.session.commit()
    return jsonify(asdict(settings))


def _term_json(term: Any) -> dict[str, Any]:
    return {"id": term.id, "term": term.term, "kind": term.kind}


@bp.get("/moderation/terms")
@moderator_only
def list_terms():  # type: ignore[no-untyped-def]
    return jsonify(items=[_term_json(t) for t in moderation.word_list()])


@bp.post("/moderation/terms")
@moderator_only
def add_term():  # type: ignore[no-untyped-def]
    payload = json_object()
    term = moderation.add_term(signed_in_user(), payload.get("term"), payload.get("kind"))
    db.session.commit()
    return jsonify(_term_json(term)), 201


@bp.delete("/moderation/terms/<int:term_id>")
@moderator_only
def delete_term(term_id: int):  # type: ignore[no-untyped-def]
    moderation.remove_term(signed_in_user(), term_id)
    db.session.commit()
    return "", 204
