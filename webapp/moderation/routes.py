"""The moderator's workspace: queues, decisions, readers and bans, the log, settings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from webapp.errors import DomainError, InvalidInput, NotFound
from webapp.extensions import db
from webapp.ids import fits_integer_column
from webapp.models import Comment, ModerationActionKind, Role, User
from webapp.moderation import bp
from webapp.redirects import safe_redirect_target
from webapp.security import role_required, signed_in_user
from webapp.services import moderation, moderation_actions, moderation_queue
from webapp.pagination import MODERATION_QUEUE, decode_cursor, encode_cursor
from webapp.services.site_settings import (
    ModerationSettings,
    moderation_settings,
    update_moderation_settings,
)

moderator_only = role_required(Role.MODERATOR)
QUEUE_TITLES = {
    "pending": "Pending",
    "reported": "Reported",
    "rejected": "Rejected",
    "approved": "Approved",
}
ACTION_DONE = {
    "approve": "approved",
    "reject": "rejected",
    "feature": "featured",
    "unfeature": "unfeatured",
}


def _back_to_queue() -> Any:
    target = safe_redirect_target(request.form.get("next"))
    if target is None or not target.startswith("/moderation"):
        target = url_for("moderation.queue", status="pending")
    return redirect(target)


@bp.get("/")
@moderator_only
def index():  # type: ignore[no-untyped-def]
    return redirect(url_for("moderation.queue", status="pending"))


@bp.get("/queue/<status>")
@moderator_only
def queue(status: str):  # type: ignore[no-untyped-def]
    if status not in QUEUE_TITLES:
        raise NotFound("No such queue.")
    after = decode_cursor(request.args.get("after"), MODERATION_QUEUE)
    items, next_key = moderation_queue.queue(status, 25, after)
    return render_template(
        "moderation/queue.html",
        status=status,
        title=QUEUE_TITLES[status],
        items=items,
        next_cursor=encode_cursor(next_key, MODERATION_QUEUE) if next_key else None,
    )


@bp.post("/comments/<int:comment_id>")
@moderator_only
def decide(comment_id: int):  # type: ignore[no-untyped-def]
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    action = request.form.get("action", "")
    try:
        moderation_actions.decide(comment, signed_in_user(), action, request.form.get("reason"))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back_to_queue()
    db.session.commit()
    flash(f"Comment {ACTION_DONE.get(action, action)}.", "success")
    return _back_to_queue()


@bp.post("/bulk")
@moderator_only
def bulk():  # type: ignore[no-untyped-def]
    ids = [int(i) for i in request.form.getlist("ids") if i.isdecimal()]
    action = request.form.get("action", "")
    try:
        done = moderation_actions.decide_many(
            ids, signed_in_user(), action, request.form.get("reason")
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back_to_queue()
    db.session.commit()
    flash(
        f"{len(done)} comment{'s' if len(done) != 1 else ''} {ACTION_DONE.get(action, action)}.",
        "success",
    )
    return _back_to_queue()


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such reader.")
    return user


@bp.get("/users/<int:user_id>")
@moderator_only
def user(user_id: int):  # type: ignore[no-untyped-def]
    reader = _user(user_id)
    history = moderation_queue.author_histories({reader.id})[reader.id]
    recent = list(
        db.session.scalars(
            db.select(Comment)
            .where(Comment.author_id == reader.id)
            .order_by(Comment.created_at.desc())
            .limit(20)
        )
    )
    log, _ = moderation_queue.audit_log(20, user_id=reader.id)
    return render_template(
        "moderation/user.html",
        reader=reader,
        history=history,
        recent=recent,
        log=log,
        form_values=request.args,
    )


@bp.post("/users/<int:user_id>/ban")
@moderator_only
def ban(user_id: int):  # type: ignore[no-untyped-def]
    reader = _user(user_id)
    until = request.form.get("until") or None
    if until and len(until) == 10:  # a date picker gives a day: the ban ends at its start
        until += "T00:00:00+00:00"
    try:
        moderation_actions.ban(reader, signed_in_user(), request.form.get("reason"), until)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(
            url_for(
                "moderation.user",
                user_id=user_id,
                reason=request.form.get("reason", ""),
                until=request.form.get("until", ""),
            )
        )
    db.session.commit()
    flash(f"{reader.display_name} is banned from writing.", "success")
    return redirect(url_for("moderation.user", user_id=user_id))


@bp.post("/users/<int:user_id>/unban")
@moderator_only
def unban(user_id: int):  # type: ignore[no-untyped-def]
    reader = _user(user_id)
    try:
        moderation_actions.unban(reader, signed_in_user(), request.form.get("reason"))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{reader.display_name} can write again.", "success")
    return redirect(url_for("moderation.user", user_id=user_id))


@bp.get("/log")
@moderator_only
def log():  # type: ignore[no-untyped-def]
    def number(name: str) -> int | None:
        raw = request.args.get(name, "")
        number = int(raw) if raw.isdecimal() else None
        return number if number is not None and fits_integer_column(number) else None

    action = request.args.get("action") or None
    rows, next_key = moderation_queue.audit_log(
        50,
        number("after"),
        action=action,
        actor_id=number("moderator_id"),
        user_id=number("user_id"),
        comment_id=number("comment_id"),
    )
    older_url = None
    if next_key is not None:
        query = {k: v for k, v in request.args.items() if k != "after"}
        older_url = url_for("moderation.log", **query, after=next_key)
    return render_template(
        "moderation/log.html",
        rows=rows,
        older_url=older_url,
        actions=[kind.value for kind in ModerationActionKind],
        moderators=moderation_queue.moderators(),
        filters=request.args,
    )


@bp.route("/settings", methods=["GET", "POST"])
@moderator_only
def settings():  # type: ignore[no-untyped-def]
    errors: dict[str, str] = {}
    values: dict[str, Any] = asdict(moderation_settings())
    status = 200
    if request.method == "POST":
        changes: dict[str, Any] = {}
        for name, default in asdict(ModerationSettings()).items():
            if isinstance(default, bool):
                changes[name] = request.form.get(name) == "y"  # unticked boxes are not sent
            elif name in request.form:
                # A page rendered before a setting existed leaves it as it is.
                changes[name] = request.form[name].strip()
        try:
            update_moderation_settings(signed_in_user(), changes)
        except InvalidInput as error:
            db.session.rollback()
            errors = error.fields or {}
            values = {**values, **changes}
            status = 422
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("moderation.settings"))
    return render_template(
        "moderation/settings.html", values=values, errors=errors, terms=moderation.word_list()
    ), status


@bp.post("/terms")
@moderator_only
def add_term():  # type: ignore[no-untyped-def]
    try:
        term = moderation.add_term(
            signed_in_user(), request.form.get("term"), request.form.get("kind")
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"“{term.term}” is now a {term.kind} word.", "success")
    return redirect(url_for("moderation.settings", _anchor="words"))


@bp.post("/terms/<int:term_id>/delete")
@moderator_only
def delete_term(term_id: int):  # type: ignore[no-untyped-def]
    moderation.remove_term(signed_in_user(), term_id)
    db.session.commit()
    flash("Word removed.", "success")
    return redirect(url_for("moderation.settings", _anchor="words"))
