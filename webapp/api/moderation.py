"""The contract's Moderation API, plus bulk decisions, unbans, settings and word lists.

The request side of moderation: bodies arrive checked against their OpenAPI schemas
(``json_object``), query parameters and cursors are read here, and the services get
typed values. Each service operation writes its own moderation log entry.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from webapp.api import bp
from webapp.api.common import json_object
from webapp.api.serializers import action_json, banned_user_json, queue_item_json, term_json
from webapp.errors import InvalidInput, MalformedRequest, NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import Comment, ModerationActionKind, Role
from webapp.pagination import (
    MODERATION_LOG,
    MODERATION_QUEUE,
    cursor_int,
    cursor_time,
    decode_key,
    encode_cursor,
    parse_limit,
)
from webapp.security import role_required, signed_in_user
from webapp.services import moderation
from webapp.services.accounts import user_by_id
from webapp.times import parse_datetime

moderator_only = role_required(Role.MODERATOR)


def queue_key(status: str, cursor: str | None) -> moderation.QueueKey | None:
    """The sort key a queue's cursor carries, or 400 for a cursor this list did not
    issue. The HTML queue pages share these cursors."""
    if status == "reported":
        return decode_key(cursor, MODERATION_QUEUE, (cursor_int, cursor_time, cursor_int))
    return decode_key(cursor, MODERATION_QUEUE, (cursor_time, cursor_int))


def queue_cursor(key: moderation.QueueKey | None) -> str | None:
    """The cursor of the page after the one ending at ``key``; None on the last page."""
    if key is None:
        return None
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return encode_cursor(values, MODERATION_QUEUE)


def _comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    return comment


@bp.get("/moderation/queue")
@moderator_only
def moderation_queue_list() -> ResponseReturnValue:
    status = request.args.get("status", "pending")
    limit = parse_limit(request.args.get("limit"))
    items, next_key = moderation.queue(status, limit, queue_key(status, request.args.get("cursor")))
    return jsonify(
        items=[queue_item_json(item) for item in items],
        next_cursor=queue_cursor(next_key),
        counts=moderation.queue_counts(),
    )


@bp.post("/moderation/comments/<int:comment_id>")
@moderator_only
def moderate_comment(comment_id: int) -> ResponseReturnValue:
    payload = json_object()
    comment = _comment(comment_id)
    moderation.decide(comment, signed_in_user(), payload["action"], payload.get("reason"))
    db.session.commit()
    [item] = moderation.queue_items([comment])
    return jsonify(queue_item_json(item))


@bp.post("/moderation/comments")
@moderator_only
def moderate_comments() -> ResponseReturnValue:
    payload = json_object()
    decided = moderation.decide_many(
        payload["ids"], signed_in_user(), payload["action"], payload.get("reason")
    )
    db.session.commit()
    return jsonify(items=[queue_item_json(item) for item in moderation.queue_items(decided)])


@bp.post("/moderation/users/<int:user_id>/ban")
@moderator_only
def ban_user(user_id: int) -> ResponseReturnValue:
    payload = json_object()
    user = user_by_id(user_id)
    until = payload.get("until")
    user = moderation.ban(
        user,
        signed_in_user(),
        payload["reason"],
        parse_datetime(until, "until") if until else None,
    )
    db.session.commit()
    return jsonify(banned_user_json(user))


@bp.post("/moderation/users/<int:user_id>/unban")
@moderator_only
def unban_user(user_id: int) -> ResponseReturnValue:
    payload = json_object()  # optional: no body is no reason
    user = moderation.unban(user_by_id(user_id), signed_in_user(), payload.get("reason"))
    db.session.commit()
    return jsonify(banned_user_json(user))


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
def moderation_log() -> ResponseReturnValue:
    after = decode_key(request.args.get("cursor"), MODERATION_LOG, (cursor_int,))
    rows, next_key = moderation.audit_log(
        parse_limit(request.args.get("limit")),
        after[0] if after else None,
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
def get_settings() -> ResponseReturnValue:
    return jsonify(asdict(moderation.moderation_settings()))


@bp.patch("/moderation/settings")
@moderator_only
def patch_settings() -> ResponseReturnValue:
    settings = moderation.update_moderation_settings(signed_in_user(), json_object())
    db.session.commit()
    return jsonify(asdict(settings))


@bp.get("/moderation/terms")
@moderator_only
def list_terms() -> ResponseReturnValue:
    return jsonify(items=[term_json(t) for t in moderation.word_list()])


@bp.post("/moderation/terms")
@moderator_only
def add_term() -> ResponseReturnValue:
    payload = json_object()
    term = moderation.add_term(signed_in_user(), payload["term"], payload["kind"])
    db.session.commit()
    return jsonify(term_json(term)), 201


@bp.delete("/moderation/terms/<int:term_id>")
@moderator_only
def delete_term(term_id: int) -> ResponseReturnValue:
    moderation.remove_term(signed_in_user(), term_id)
    db.session.commit()
    return "", 204
