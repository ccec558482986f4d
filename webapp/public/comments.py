"""The comment forms under an article: post, reply, edit, delete, react, report.

Without script each form posts and comes back to the article; with pulse.js the
comments section is re-rendered in place. A refused comment re-renders the page
with what the reader typed and why it was refused.

The fields are read as typed values (``webapp.forms.comments``) and go to the same
service operations as the API's; the service decides.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.api.comments import enforce_comment_limits
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.forms.comments import parent_id_field, reaction_field
from webapp.models import Article, Comment
from webapp.public import bp
from webapp.public.routes import comments_context, refuse_on_page
from webapp.ratelimits import RateLimited, limit_action
from webapp.security import signed_in_user
from webapp.services import articles
from webapp.services import comments as comment_rules
from webapp.transactions import begin_writes, reads_first


def _wants_fragment() -> bool:
    return request.headers.get("X-Pulse-Fragment") == "comments"


def _back(
    article: Article, comment_id: int | None = None, message: str | None = None
) -> ResponseReturnValue:
    who = signed_in_user()
    if _wants_fragment():
        db.session.refresh(article)
        return render_template(
            "public/_comments.html", article=article, comments=comments_context(article, who)
        )
    if message:
        flash(message, "success")
    sort = request.form.get("sort")
    anchor = f"comment-{comment_id}" if comment_id else "comments"
    return redirect(
        url_for(
            "public.article",
            slug=article.slug,
            sort=sort if sort and sort != "oldest" else None,
            _anchor=anchor,
        )
    )


def _article_of(comment: Comment) -> Article:
    found = db.session.get(Article, comment.article_id)
    assert found is not None
    return found


@bp.post("/articles/<slug>/comments")
def post_comment(slug: str) -> ResponseReturnValue:
    # Read and score first; the write transaction then only writes (webapp.transactions).
    reads_first()
    user = signed_in_user()
    article = articles.get_article(slug, user)
    body = request.form.get("body", "")
    parent_id = parent_id_field(request.form)
    try:
        enforce_comment_limits(user.id)
        comment = comment_rules.prepare(article, user, body, parent_id)
        begin_writes()
        comment_rules.store(comment)
    except DomainError as error:
        db.session.rollback()
        form = {"body": body, "parent_id": parent_id, "error": error.message}
        return refuse_on_page(article, user, error, form)
    db.session.commit()
    message = (
        "Your comment is awaiting moderation; only you can see it until a moderator approves it."
        if comment.status == "pending"
        else "Your comment is posted."
    )
    return _back(article, comment.id, message)


@bp.post("/comments/<int:comment_id>/edit")
def edit_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    body = request.form.get("body", "")
    try:
        comment_rules.edit(comment, user, body)
    except DomainError as error:
        db.session.rollback()
        form = {"body": body, "edit_id": comment_id, "error": error.message}
        return refuse_on_page(article, user, error, form)
    db.session.commit()
    return _back(article, comment_id, "Your comment is updated.")


@bp.post("/comments/<int:comment_id>/delete")
def delete_comment(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    comment_rules.delete(comment, user)
    db.session.commit()
    return _back(article, None, "The comment is deleted.")


@bp.post("/comments/<int:comment_id>/react")
def react(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    try:
        limit_action("react", account=user.id)  # one bucket with the API's
    except RateLimited as error:
        return refuse_on_page(article, user, error)
    comment_rules.react(comment, user, reaction_field(request.form))
    db.session.commit()
    return _back(article, comment_id)


@bp.post("/comments/<int:comment_id>/report")
def report(comment_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    comment = comment_rules.get_comment(comment_id, user)
    article = _article_of(comment)
    reason, note = request.form.get("reason"), request.form.get("note")
    try:
        limit_action("report", account=user.id)  # one bucket with the API's
    except RateLimited as error:
        # The report form opens again under its comment, with the reason and note.
        form = {"report_id": comment_id, "reason": reason, "note": note, "error": error.message}
        return refuse_on_page(article, user, error, form)
    # No reason chosen is refused by the service, as an unknown one is.
    created = comment_rules.flag(comment, user, reason or "", note)
    db.session.commit()
    return _back(
        article,
        comment_id,
        "Thank you: a moderator will look at this comment."
        if created
        else "You have already reported this comment.",
    )
