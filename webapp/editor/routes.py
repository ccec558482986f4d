from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from webapp.charts import line_chart
from webapp.editor import bp
from webapp.errors import DomainError, NotFound
from webapp.extensions import db
from webapp.forms.articles import ArticleForm
from webapp.models import Article, ArticleStatus, Poll, Role
from webapp.security import role_required, signed_in_user
from webapp.services import articles, polls
from webapp.services.markup import render_article

# Service field names -> form field names, to show errors next to the right input.
FIELD_NAMES = {
    "comments": "comments",
    "poll.question": "poll_question",
    "poll.options": "poll_options",
    "poll.closes_at": "poll_closes_at",
    "poll.results_visibility": "poll_results_visibility",
}


def _article(article_id: int) -> Article:
    found = db.session.get(Article, article_id)
    if found is None:
        raise NotFound("No such article.")
    return found


def _changes_from(form: ArticleForm, status: str | None) -> articles.ArticleChanges:
    options = [(entry.data or "").strip() for entry in form.poll_options]
    options = [option for option in options if option]
    question = (form.poll_question.data or "").strip()
    changes = articles.ArticleChanges(
        title=form.title.data or "",
        body=form.body.data or "",
        slug=(form.slug.data or "").strip(),
        summary=form.summary.data or "",
        labels=[name for name in (form.labels.data or "").split(",")],
        comments=form.comments.data,
        status=status,
        present={"title", "body", "summary", "labels", "comments"},
    )
    if question or options:
        closes_at = form.poll_closes_at.data
        changes.poll = articles.PollInput(
            question=question,
            options=options,
            closes_at=closes_at.replace(tzinfo=UTC) if closes_at else None,
            results_visibility=form.poll_results_visibility.data or "always",
            allow_anonymous=bool(form.poll_allow_anonymous.data),
        )
    else:
        changes.remove_poll = True
    return changes


def _fill_form(form: ArticleForm, article: Article) -> None:
    form.title.data = article.title
    form.slug.data = article.slug
    form.summary.data = article.summary
    form.body.data = article.body
    form.labels.data = ", ".join(label.name for label in article.labels)
    form.comments.data = article.comment_mode
    poll = article.poll
    if poll is not None:
        form.poll_question.data = poll.question
        for entry, option in zip(form.poll_options, poll.options, strict=False):
            entry.data = option.label
        form.poll_closes_at.data = poll.closes_at.replace(tzinfo=None) if poll.closes_at else None
        form.poll_results_visibility.data = poll.results_visibility
        form.poll_allow_anonymous.data = poll.allow_anonymous
        form.poll_closed.data = poll.closed_at is not None


def _show_errors(form: ArticleForm, error: DomainError) -> None:
    if not error.fields:
        form.form_errors.append(error.message)
        return
    for name, problem in error.fields.items():
        field = getattr(form, FIELD_NAMES.get(name, name), None)
        if field is None:
            form.form_errors.append(f"{name}: {problem}")
        else:
            field.errors = [*field.errors, problem]


def _save(form: ArticleForm, article: Article | None):  # type: ignore[no-untyped-def]
    """Preview, save or publish from the one form; keeps what the editor typed on errors."""
    action = request.form.get("action", "save")
    preview = None
    status_code = 200
    if request.method == "POST":
        if action == "preview":
            preview = render_article(form.body.data or "")
        elif form.validate():
            status = ArticleStatus.PUBLISHED.value if action == "publish" else None
            if article is None and status is None:
                status = ArticleStatus.DRAFT.value
            changes = _changes_from(form, status)
            try:
                if article is None:
                    article = articles.create_article(signed_in_user(), changes)
                else:
                    articles.update_article(article, changes)
                if article.poll is not None:
                    if form.poll_closed.data:
                        articles.close_poll(article.poll)
                    else:
                        articles.reopen_poll(article.poll)
            except DomainError as error:
                db.session.rollback()
                _show_errors(form, error)
                status_code = error.status
            else:
                db.session.commit()
                flash("Published." if action == "publish" else "Saved.", "success")
                return redirect(url_for("editor.edit_article", article_id=article.id))
        else:
            status_code = 422
    return render_template(
        "editor/article_form.html", form=form, article=article, preview=preview
    ), status_code


@bp.get("/")
@role_required(Role.EDITOR)
def dashboard():  # type: ignore[no-untyped-def]
    return render_template("editor/dashboard.html", articles=articles.all_articles_for_editors())


@bp.route("/articles/new", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def new_article():  # type: ignore[no-untyped-def]
    return _save(ArticleForm(), None)


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def edit_article(article_id: int):  # type: ignore[no-untyped-def]
    article = _article(article_id)
    form = ArticleForm()
    if request.method == "GET":
        _fill_form(form, article)
    return _save(form, article)


@bp.post("/articles/<int:article_id>/publish")
@role_required(Role.EDITOR)
def publish(article_id: int):  # type: ignore[no-untyped-def]
    article = _article(article_id)
    articles.publish(article)
    db.session.commit()
    flash(f"“{article.title}” is published.", "success")
    return redirect(url_for("editor.dashboard"))


@bp.post("/articles/<int:article_id>/unpublish")
@role_required(Role.EDITOR)
def unpublish(article_id: int):  # type: ignore[no-untyped-def]
    article = _article(article_id)
    articles.unpublish(article)
    db.session.commit()
    flash(f"“{article.title}” is back to draft; readers no longer see it.", "success")
    return redirect(url_for("editor.dashboard"))


def _poll_of(article: Article) -> Poll:
    if article.poll is None:
        raise NotFound("This article has no poll.")
    return article.poll


@bp.get("/articles/<int:article_id>/results")
@role_required(Role.EDITOR)
def results(article_id: int):  # type: ignore[no-untyped-def]
    article = _article(article_id)
    poll = _poll_of(article)
    days = polls.timeline(poll)
    chart = None
    if days:
        chart = line_chart(
            "Share of votes held by each option, day by day",
            [day.day.strftime("%d %b") for day in days],
            {option.label: [day.share(option.id) * 100 for day in days] for option in poll.options},
            y_max=100,
            y_format=lambda v: f"{v:.0f}%",
        )
    return render_template(
        "editor/results.html",
        article=article,
        poll=poll,
        results=polls.results(poll),
        days=days,
        chart=chart,
    )


@bp.get("/articles/<int:article_id>/votes.csv")
@role_required(Role.EDITOR)
def votes_csv(article_id: int):  # type: ignore[no-untyped-def]
    article = _article(article_id)
    poll = _poll_of(article)
    poll_id, labels = poll.id, {option.id: option.label for option in poll.options}

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["vote", "option", "voter", "cast_at", "changed_at"])
        for number, label, kind, cast_at, changed_at in polls.export_rows(poll_id, labels):
            writer.writerow([number, label, kind, cast_at.isoformat(), changed_at.isoformat()])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"{article.slug}-votes.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
