"""The comment forms under an article: post, reply, edit, delete (and undo), react,
report.

Every action answers in place. With pulse.js a form is sent in the background
(``X-Pulse-Fragment: comments``) and the answer is the comments section again, at the
page of the thread holding the comment acted on, saying what happened next to the
form (published, held for review, refused and why, when to retry) with the comment
to focus; a refusal keeps its HTTP status and what the reader typed. Without script
every form posts, then redirects back to the comment's anchor on the article
(post/redirect/get: reloading never sends it again); a refused form waits in the
session with what was typed, and the page shows it open with the reason.

A comment form carries an idempotency key: the same form sent twice stores one
comment. The fields are read as typed values (``webapp.forms.comments``) and go to the
same service operations as the API's; the service decides.
"""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from webapp.api.comments import enforce_comment_limits
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.forms.comments import parent_id_field, reaction_field
from webapp.models import Article, Comment, User
from webapp.public import bp
from webapp.public.routes import (
    REFUSED_COMMENT_FORM,
    UNDO_OFFER,
    comments_context,
    comments_page_of,
)
from webapp.ratelimits import limit_action
from webapp.security import signed_in_user
from webapp.services import articles
from webapp.services import comments as comment_rules
from webapp.services.notifications.settings import remember_reply_choice, reply_mail_choice
from webapp.transactions import begin_writes, reads_first

PUBLISHED = "Your comment is posted."
HELD = "Your comment is awaiting moderation; only you can see it until a moderator approves it."


def _wants_fragment() -> bool:
    return request.headers.get("X-Pulse-Fragment") == "comments"


def _sort() -> str:
    sort = request.form.get("sort", "oldest")
    return sort if sort in comment_rules.SORTS else "oldest"


def _done(
    article: Article,
    who: User,
    comment: Comment | None,
    message: str | None,
    *,
    kind: str = "success",
    undo_until: Any = None,
) -> ResponseReturnValue:
    """The answer to an action that went through, at the comment acted on."""
    after = comments_page_of(article, who, comment, _sort()) if comment is not None else None
    if _wants_fragment():
        db.session.refresh(article)
        notice = {
            "kind": kind,
            "text": message,
            "comment_id": comment.id if comment is not None else None,
            "undo_id": comment.id if undo_until is not None and comment is not None else None,
            "undo_until": undo_until,
        }
        return render_template(
            "public/_comments.html",
            article=article,
            comments=comments_context(article, who, after=after, notice=notice),
        )
    if message:
        flash(message, kind)
    if undo_until is not None and comment is not None:
        # The page it redirects to offers Undo until then (``routes.undo_offered``).
        session[UNDO_OFFER] = [comment.id, undo_until.timestamp()]
    anchor = f"comment-{comment.id}" if comment is not None else "comments"
    sort = _sort()
    return redirect(
        url_for(
            "public.article",
            slug=article.slug,
            sort=sort if sort != "oldest" else None,
            after=after,
            _anchor=anchor,
        )
    )


def _refused(
    article: Article,
    who: User,
    error: DomainError,
    form: dict[str, Any],
    near: Comment | None = None,
) -> ResponseReturnValue:
    """A refused action: the form again, open, with what was typed and why; in place
    (with the refusal's status and headers, a rate limit's Retry-After) or, without
    script, by redirecting to the form's place on the article."""
    db.session.rollback()
    form = {**form, "error": error.message, "code": error.code}
    after = comments_page_of(article, who, near, _sort()) if near is not None else None
    if _wants_fragment():
        body = render_template(
            "public/_comments.html",
            article=article,
            comments=comments_context(article, who, form, after=after),
        )
        response = make_response(body, error.status)
        response.headers.update(error.headers)
        return response
    session[REFUSED_COMMENT_FORM] = form
    sort = _sort()
    return redirect(
        url_for(
            "public.article",
            slug=article.slug,
            sort=sort if sort != "oldest" else None,
            after=after,
            _anchor=f"comment-{near.id}" if near is not None else "comment-form",
        )
    )


def _article_of(comment: Comment) -> Article:
    found = db.session.get(Article, comment.article_id)
    assert found is not None
    return found


def _posted_message(comment: Comment) -> tuple[str, str]:
    return (HELD, "pending") if comment.status == "pending" else (PUBLISHED, "success")


@bp.post("/articles/<slug>/comments")
def post_comment(slug: str) -> ResponseReturnValue:
    # Read and score first; the write transaction then only writes (webapp.transactions).
    reads_first()
    user = signed_in_user()
    article = articles.get_article(slug, user)
    body = request.form.get("body", "")
    parent_id = parent_id_field(request.form)
    key = comment_rules.clean_key(
        request.form.get("idempotency_key") or request.headers.get("Idempotency-Key")
    )
    # The same form sent again (a double click, a retry, a resubmitted page): the
    # comment it stored, not a second one, and nothing counted against the limit.
    earlier = comment_rules.posted_with_key(user.id, key)
    if earlier is not None:
        message, kind = _posted_message(earlier)
        return _done(article, user, earlier, message, kind=kind)
    parent = db.session.get(Comment, parent_id) if parent_id is not None else None
    try:
        enforce_comment_limits(user.id)
        comment = comment_rules.prepare(article, user, body, parent_id)
        begin_writes()
        comment_rules.store(comment)
        if not comment_rules.claim_key(comment, key):
            db.session.rollback()
            earlier = comment_rules.posted_with_key(user.id, key)
            assert earlier is not None
            message, kind = _posted_message(earlier)
            return _done(article, user, earlier, message, kind=kind)
        remember_reply_choice(comment, user, reply_mail_choice(request.form))
        comment_rules.finish_deletions()
    except DomainError as error:
        form = {"body": body, "parent_id": parent_id}
        return _refused(article, user, error, form, parent)
    db.session.commit()
    message, kind = _posted_message(comment)
    return _done(article, user, comment, message, kind=kind)


@bp.post("/comments/<int:comment_id>/edit")
def edit_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    body = request.form.get("body", "")
    try:
        comment_rules.edit(comment, user, body)
    except DomainError as error:
        return _refused(article, user, error, {"body": body, "edit_id": comment_id}, comment)
    db.session.commit()
    return _done(article, user, comment, "Your comment is updated.")


@bp.post("/comments/<int:comment_id>/delete")
def delete_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    try:
        comment_rules.finish_deletions()
        until = comment_rules.delete_undoable(comment, user)
    except DomainError as error:
        return _refused(article, user, error, {"action_id": comment_id}, comment)
    db.session.commit()
    return _done(article, user, comment, "The comment is deleted.", undo_until=until)


@bp.post("/comments/<int:comment_id>/undo")
def undo_delete(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    session.pop(UNDO_OFFER, None)
    try:
        comment_rules.undo(comment_id, user)
    except DomainError as error:
        return _refused(article, user, error, {"action_id": comment_id}, comment)
    comment_rules.finish_deletions()
    db.session.commit()
    return _done(article, user, comment, "The comment is back.")


@bp.post("/comments/<int:comment_id>/react")
def react(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    try:
        limit_action("react", account=user.id)  # one bucket with the API's
        comment_rules.react(comment, user, reaction_field(request.form))
    except DomainError as error:
        return _refused(article, user, error, {"action_id": comment_id}, comment)
    db.session.commit()
    return _done(article, user, comment, None)


@bp.post("/comments/<int:comment_id>/report")
def report(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    reason, note = request.form.get("reason"), request.form.get("note")
    try:
        limit_action("report", account=user.id)  # one bucket with the API's
        # No reason chosen is refused by the service, as an unknown one is.
        created = comment_rules.flag(comment, user, reason or "", note)
    except DomainError as error:
        # The report form opens again under its comment, with the reason and note.
        form = {"report_id": comment_id, "reason": reason, "note": note}
        return _refused(article, user, error, form, comment)
    db.session.commit()
    return _done(
        article,
        user,
        comment,
        "Thank you: a moderator will look at this comment."
        if created
        else "You have already reported this comment.",
    )
