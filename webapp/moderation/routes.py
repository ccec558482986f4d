"""The moderator's workspace: queues, decisions, readers and bans, the log, settings.

Each view reads the form, calls one moderation service (which checks the rules and
writes the log entry) and shows the outcome; a refusal is flashed, not raised. The
templates get precomputed facts (the decisions offered, whether a ban can be lifted,
the limits) rather than working them out.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.api.moderation import queue_cursor, queue_key
from webapp.caching import QUEUE_COUNTS
from webapp.errors import DomainError, InvalidInput, NotFound
from webapp.extensions import db
from webapp.forms.moderation import SETTING_FIELDS, settings_changes, settings_sent
from webapp.ids import fits_integer_column
from webapp.models import Comment, ModerationActionKind, Role, User
from webapp.moderation import bp
from webapp.pagination import (
    MODERATION_LOG,
    READER_COMMENTS,
    cursor_int,
    cursor_time,
    decode_key,
    encode_cursor,
)
from webapp.redirects import safe_redirect_target
from webapp.security import role_required, signed_in_user
from webapp.services import moderation
from webapp.services.accounts import user_by_id
from webapp.services.comments import sides as side_rules
from webapp.services.insights import corrections
from webapp.times import parse_datetime

moderator_only = role_required(Role.MODERATOR)
QUEUE_TITLES = {name: name.capitalize() for name in moderation.QUEUES}
ACTION_DONE = {
    "approve": "approved",
    "reject": "rejected",
    "feature": "featured",
    "unfeature": "unfeatured",
}
QUEUE_PAGE = 25
#: Comments on a page of the divisive watch list.
DIVISIVE_PAGE = 20
LOG_PAGE = 50
USER_PAGE = 20


@bp.context_processor
def limits() -> dict[str, Any]:
    """What every moderation page shows from the services: the queues' tabs and the
    longest reason and word the forms take."""
    return {
        "queue_titles": QUEUE_TITLES,
        "max_reason": moderation.MAX_REASON,
        "max_term": moderation.MAX_TERM,
    }


def _refused(error: DomainError) -> None:
    """Undo what the refused operation began and tell the moderator why."""
    db.session.rollback()
    flash(error.message, "error")


def _queue_page_sent() -> str:
    """The queue page the form was sent from (its path with its filters), or Pending."""
    target = safe_redirect_target(request.form.get("next"))
    if target is None or not target.startswith("/moderation"):
        target = url_for("moderation.queue", status="pending")
    return target


def _back_to_queue() -> ResponseReturnValue:
    return redirect(_queue_page_sent())


def _answers_in_place() -> bool:
    """Whether the queue's script sent this form and reads the outcome as JSON (it
    asks for JSON); a plain form post gets post/redirect/get."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _refused_in_place(error: DomainError) -> Response:
    db.session.rollback()
    response = jsonify(error={"code": error.code, "message": error.message})
    response.status_code = error.status
    return response


def _decided_in_place(comments: list[Comment], message: str) -> Response:
    """What the queue's script needs after a decision: the message, the queues' sizes
    now, and per comment whether it stays on the page the moderator is on (then its
    item as shown now) or leaves it."""
    status = request.form.get("queue", "")
    here = _queue_page_sent()
    answers = []
    for item in moderation.queue_items(comments):
        stays = moderation.in_queue(item.comment, status)
        answers.append(
            {
                "id": item.comment.id,
                "in_queue": stays,
                "html": render_template(
                    "moderation/_queue_item.html", item=item, here=here, status=status
                )
                if stays
                else None,
            }
        )
    return jsonify(message=message, counts=moderation.queue_counts(), items=answers)


@bp.get("/")
@moderator_only
def index() -> ResponseReturnValue:
    return redirect(url_for("moderation.queue", status="pending"))


@bp.get("/queue/<status>")
@moderator_only
def queue(status: str) -> ResponseReturnValue:
    if status not in QUEUE_TITLES:
        raise NotFound("No such queue.")
    after = queue_key(status, request.args.get("after"))
    filters = moderation.queue_filters(
        _number_arg("article"), request.args.get("reason"), request.args.get("q")
    )
    page = moderation.queue_page(status, QUEUE_PAGE, after, filters)
    # The filters as the page's links and forms carry them (in the URL, so they work
    # without script and survive a decision's redirect).
    filter_args: dict[str, Any] = {
        name: value
        for name, value in (
            ("article", filters.article_id),
            ("reason", filters.reason),
            ("q", filters.search),
        )
        if value
    }
    next_url = None
    if page.next_key is not None:
        next_url = url_for(
            "moderation.queue", status=status, after=queue_cursor(page.next_key), **filter_args
        )
    return render_template(
        "moderation/queue.html",
        status=status,
        title=QUEUE_TITLES[status],
        items=page.items,
        stopped_looking=page.stopped_looking,
        search_window=moderation.SEARCH_WINDOW,
        bulk_actions=moderation.COMMENT_ACTIONS,
        next_url=next_url,
        filters=filters,
        filter_args=filter_args,
        reasons=moderation.REASON_FILTERS,
        articles=moderation.recent_articles(include=filters.article_id),
        max_search=moderation.MAX_SEARCH,
        select_all=request.args.get("select") == "all",
    )


@bp.post("/comments/<int:comment_id>")
@moderator_only
def decide(comment_id: int) -> ResponseReturnValue:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    action = request.form.get("action", "")
    try:
        moderation.decide(comment, signed_in_user(), action, request.form.get("reason"))
    except DomainError as error:
        if _answers_in_place():
            return _refused_in_place(error)
        _refused(error)
        return _back_to_queue()
    # The queue this moderator goes back to counts the decision at once (this worker).
    QUEUE_COUNTS.changed()
    db.session.commit()
    message = f"Comment {ACTION_DONE.get(action, action)}."
    if _answers_in_place():
        return _decided_in_place([comment], message)
    flash(message, "success")
    return _back_to_queue()


@bp.post("/comments/<int:comment_id>/tone")
@moderator_only
def correct_tone(comment_id: int) -> ResponseReturnValue:
    """One click sets a comment's tone label (issue 17): kept as labelled data, and
    every tone figure follows. Back to the queue, or the results page it came from."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    label = request.form.get("label", "")
    target = safe_redirect_target(request.form.get("next"))
    if target is None or not target.startswith(("/moderation", "/editor")):
        target = url_for("moderation.queue", status="pending")
    try:
        corrections.correct_tone(comment, signed_in_user(), label)
    except DomainError as error:
        _refused(error)
        return redirect(target)
    db.session.commit()
    flash(f"Comment {comment.id}'s tone is now {label}.", "success")
    return redirect(target)


@bp.post("/bulk")
@moderator_only
def bulk() -> ResponseReturnValue:
    ids = [int(i) for i in request.form.getlist("ids") if i.isdecimal()]
    action = request.form.get("action", "")
    try:
        done = moderation.decide_many(ids, signed_in_user(), action, request.form.get("reason"))
    except DomainError as error:
        if _answers_in_place():
            return _refused_in_place(error)
        _refused(error)
        return _back_to_queue()
    QUEUE_COUNTS.changed()
    db.session.commit()
    message = (
        f"{len(done)} comment{'s' if len(done) != 1 else ''} {ACTION_DONE.get(action, action)}."
    )
    if _answers_in_place():
        return _decided_in_place(done, message)
    flash(message, "success")
    return _back_to_queue()


def _user(user_id: int) -> User:
    return user_by_id(user_id, "No such reader.")


@bp.get("/users/<int:user_id>")
@moderator_only
def user(user_id: int) -> ResponseReturnValue:
    reader = _user(user_id)
    before = decode_key(request.args.get("after"), READER_COMMENTS, (cursor_time, cursor_int))
    recent, older = moderation.recent_comments(
        reader, USER_PAGE, (before[0], before[1]) if before else None
    )
    log, more_log = moderation.audit_log(USER_PAGE, user_id=reader.id)
    older_comments_url = more_log_url = None
    if older is not None:
        when, last_id = older
        cursor = encode_cursor([when.isoformat(), last_id], READER_COMMENTS)
        older_comments_url = url_for("moderation.user", user_id=reader.id, after=cursor)
    if more_log is not None:
        # The rest of this reader's history continues on the log, filtered to them.
        cursor = encode_cursor([more_log], MODERATION_LOG)
        more_log_url = url_for("moderation.log", user_id=reader.id, after=cursor)
    return render_template(
        "moderation/user.html",
        reader=reader,
        history=moderation.author_histories({reader.id})[reader.id],
        recent=recent,
        older_comments_url=older_comments_url,
        log=log,
        more_log_url=more_log_url,
        can_unban=moderation.may_unban(reader),
        form_values=request.args,
    )


@bp.post("/users/<int:user_id>/ban")
@moderator_only
def ban(user_id: int) -> ResponseReturnValue:
    reader = _user(user_id)
    until = request.form.get("until") or None
    if until and len(until) == 10:  # a date picker gives a day: the ban ends at its start
        until += "T00:00:00+00:00"
    try:
        moderation.ban(
            reader,
            signed_in_user(),
            request.form.get("reason"),
            parse_datetime(until, "until") if until else None,
        )
    except DomainError as error:
        if _answers_in_place():
            return _refused_in_place(error)
        _refused(error)
        # The reader's page shows the ban form again with what was typed.
        return redirect(
            url_for(
                "moderation.user",
                user_id=user_id,
                reason=request.form.get("reason", ""),
                until=request.form.get("until", ""),
            )
        )
    db.session.commit()
    message = f"{reader.display_name} is banned from writing."
    if _answers_in_place():
        return jsonify(message=message, author_id=reader.id, counts=moderation.queue_counts())
    flash(message, "success")
    if request.form.get("next"):  # banned from a queue item: back to that queue page
        return _back_to_queue()
    return redirect(url_for("moderation.user", user_id=user_id))


@bp.post("/users/<int:user_id>/unban")
@moderator_only
def unban(user_id: int) -> ResponseReturnValue:
    reader = _user(user_id)
    try:
        moderation.unban(reader, signed_in_user(), request.form.get("reason"))
    except DomainError as error:
        _refused(error)
    else:
        db.session.commit()
        flash(f"{reader.display_name} can write again.", "success")
    return redirect(url_for("moderation.user", user_id=user_id))


def _number_arg(name: str) -> int | None:
    """A whole number from the query to filter by; anything else is no filter."""
    raw = request.args.get(name, "")
    number = int(raw) if raw.isdecimal() else None
    return number if number is not None and fits_integer_column(number) else None


@bp.get("/log")
@moderator_only
def log() -> ResponseReturnValue:
    after = decode_key(request.args.get("after"), MODERATION_LOG, (cursor_int,))
    rows, next_key = moderation.audit_log(
        LOG_PAGE,
        after[0] if after else None,
        action=request.args.get("action") or None,
        actor_id=_number_arg("moderator_id"),
        user_id=_number_arg("user_id"),
        comment_id=_number_arg("comment_id"),
    )
    older_url = None
    if next_key is not None:
        query: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after"}
        older_url = url_for(
            "moderation.log", **query, after=encode_cursor([next_key], MODERATION_LOG)
        )
    return render_template(
        "moderation/log.html",
        rows=rows,
        older_url=older_url,
        actions=[kind.value for kind in ModerationActionKind],
        moderators=moderation.moderators(),
        filters=request.args,
    )


@bp.route("/settings", methods=["GET", "POST"])
@moderator_only
def settings() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    values: dict[str, Any] = asdict(moderation.moderation_settings())
    status = 200
    if request.method == "POST":
        sent = settings_sent(request.form)
        try:
            moderation.update_moderation_settings(signed_in_user(), settings_changes(sent))
        except InvalidInput as error:
            db.session.rollback()
            errors = error.fields or {}
            values = {**values, **sent}
            status = 422
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("moderation.settings"))
    return render_template(
        "moderation/settings.html",
        fields=SETTING_FIELDS,
        values=values,
        errors=errors,
        terms=moderation.word_list(),
    ), status


@bp.post("/terms")
@moderator_only
def add_term() -> ResponseReturnValue:
    try:
        term = moderation.add_term(
            signed_in_user(), request.form.get("term", ""), request.form.get("kind", "")
        )
    except DomainError as error:
        _refused(error)
    else:
        db.session.commit()
        flash(f"“{term.term}” is now a {term.kind} word.", "success")
    return redirect(url_for("moderation.settings", _anchor="words"))


@bp.post("/terms/<int:term_id>/delete")
@moderator_only
def delete_term(term_id: int) -> ResponseReturnValue:
    moderation.remove_term(signed_in_user(), term_id)
    db.session.commit()
    flash("Word removed.", "success")
    return redirect(url_for("moderation.settings", _anchor="words"))


# --- common ground (issue 20) ---------------------------------------------------------


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdecimal() else 0
    if page < 1 or not fits_integer_column(page):
        raise NotFound("No such page.")
    return page


@bp.get("/divisive")
@moderator_only
def divisive() -> ResponseReturnValue:
    """The watch list: comments the poll's answers split sharply over, most divisive
    first (where threads turn hostile), across articles or one's; and the
    common-ground comments worth featuring, one click each."""
    page = _page_arg()
    article_id = _number_arg("article")
    watch = side_rules.divisive(page, DIVISIVE_PAGE, article_id)
    if page > 1 and not watch.items:
        raise NotFound("No such page.")
    filter_args: dict[str, Any] = {"article": article_id} if article_id is not None else {}
    return render_template(
        "moderation/divisive.html",
        watch=watch,
        candidates=side_rules.feature_candidates([article_id] if article_id is not None else None),
        article_id=article_id,
        filter_args=filter_args,
        articles=moderation.recent_articles(include=article_id),
        next_url=url_for("moderation.divisive", page=page + 1, **filter_args)
        if watch.has_more
        else None,
        previous_url=url_for("moderation.divisive", page=page - 1, **filter_args)
        if page > 1
        else None,
    )


@bp.post("/comments/<int:comment_id>/feature")
@role_required(Role.MODERATOR, Role.EDITOR)
def feature_common_ground(comment_id: int) -> ResponseReturnValue:
    """One click features a common-ground candidate, from the watch list or an
    editor's results page: the moderators' own feature decision (its rules, its audit
    log entry), open to editors too, back to the page it came from."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    target = safe_redirect_target(request.form.get("next"))
    if target is None or not target.startswith(("/moderation", "/editor")):
        target = url_for("moderation.divisive")
    try:
        moderation.decide(comment, signed_in_user(), "feature")
    except DomainError as error:
        _refused(error)
        return redirect(target)
    QUEUE_COUNTS.changed()
    db.session.commit()
    flash("Comment featured.", "success")
    return redirect(target)
