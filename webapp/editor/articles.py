"""Writing and publishing: the editor's desk and the one article form (preview, save, publish)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from webapp.editor import bp
from webapp.editor.common import article_or_404
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.forms.articles import ArticleForm
from webapp.models import Article, ArticleStatus, Role
from webapp.pagination import EDITOR_ARTICLES, cursor_int, cursor_time, decode_key, encode_cursor
from webapp.security import role_required, signed_in_user
from webapp.services import articles, media
from webapp.services.markup import render_article
from webapp.services.media.lead import set_lead_image_alt

# Service field names -> form field names, to show errors next to the right input.
FIELD_NAMES = {
    "comments": "comments",
    "poll.question": "poll_question",
    "poll.options": "poll_options",
    "poll.closes_at": "poll_closes_at",
    "poll.results_visibility": "poll_results_visibility",
}
#: How often the form's script saves a changed draft, in seconds.
AUTOSAVE_SECONDS = 15
#: Articles on a page of the editors' desk.
DASHBOARD_PAGE = 50


def _changes_from(form: ArticleForm, status: str | None) -> articles.ArticleChanges:
    options = [(entry.data or "").strip() for entry in form.poll_options]
    options = [option for option in options if option]
    question = (form.poll_question.data or "").strip()
    changes = articles.ArticleChanges(
        title=form.title.data or "",
        body=form.body.data or "",
        slug=(form.slug.data or "").strip(),
        summary=form.summary.data or "",
        labels=[name for name in (form.labels.data or "").split(",") if name.strip()],
        comments=form.comments.data,
        status=status,
        present={"title", "body", "summary", "labels", "comments"},
    )
    publish_at = form.publish_at.data
    if publish_at is not None and status == ArticleStatus.PUBLISHED.value:
        changes.publish_at = publish_at.replace(tzinfo=UTC)
    if question or options:
        closes_at = form.poll_closes_at.data
        changes.poll = articles.PollInput(
            question=question,
            options=options,
            closes_at=closes_at.replace(tzinfo=UTC) if closes_at else None,
            results_visibility=form.poll_results_visibility.data or "always",
            allow_anonymous=bool(form.poll_allow_anonymous.data),
            signed_in_only_under_attack=bool(form.poll_signed_in_only_under_attack.data),
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
    form.lead_image_alt.data = article.lead_image_alt or ""
    if article.is_scheduled and article.published_at is not None:
        form.publish_at.data = article.published_at.astimezone(UTC).replace(tzinfo=None)
    poll = article.poll
    if poll is not None:
        form.poll_question.data = poll.question
        for index, option in enumerate(poll.options):
            if index < len(form.poll_options):
                form.poll_options[index].data = option.label
            else:
                form.poll_options.append_entry(option.label)
        form.poll_closes_at.data = poll.closes_at.replace(tzinfo=None) if poll.closes_at else None
        form.poll_results_visibility.data = poll.results_visibility
        form.poll_allow_anonymous.data = poll.allow_anonymous
        form.poll_signed_in_only_under_attack.data = poll.signed_in_only_under_attack
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


def _save(form: ArticleForm, article: Article | None) -> ResponseReturnValue:
    """Preview, save or publish from the one form; keeps what the editor typed on errors."""
    action = request.form.get("action", "save")
    preview = None
    status_code = 200
    added_option: int | None = None
    existing = article
    if request.method == "POST":
        if action == "preview":
            preview = render_article(form.body.data or "")
        elif action == "more_options":
            # Without script, "Add another option" posts back: the same form, one more
            # box (focused), nothing saved.
            if len(form.poll_options) < articles.MAX_OPTIONS:
                form.poll_options.append_entry()
                added_option = len(form.poll_options) - 1
        elif form.validate():
            status = ArticleStatus.PUBLISHED.value if action == "publish" else None
            if article is not None and article.is_scheduled and form.publish_at.data:
                status = ArticleStatus.PUBLISHED.value  # saving keeps (or moves) the schedule
            if article is None and status is None:
                status = ArticleStatus.DRAFT.value
            changes = _changes_from(form, status)
            try:
                if article is None:
                    article = articles.create_article(signed_in_user(), changes)
                else:
                    articles.update_article(article, changes)
                _apply_lead_image(form, article)
                if article.poll is not None:
                    if form.poll_closed.data:
                        articles.close_poll(article.poll)
                    else:
                        articles.reopen_poll(article.poll)
            except DomainError as error:
                db.session.rollback()
                article = existing  # a new article refused is still a new one
                _show_errors(form, error)
                status_code = error.status
            else:
                db.session.commit()
                flash(_saved_message(action, article), "success")
                return redirect(url_for("editor.edit_article", article_id=article.id))
        else:
            status_code = 422
    return render_template(
        "editor/article_form.html",
        form=form,
        article=article,
        preview=preview,
        min_options=articles.MIN_OPTIONS,
        max_options=articles.MAX_OPTIONS,
        added_option=added_option,
        autosave_url=_autosave_url(article),
        autosave_seconds=AUTOSAVE_SECONDS,
    ), status_code


def _autosave_url(article: Article | None) -> str | None:
    """Where the form's script saves the draft as the editor types: a new article or
    a draft only (a published article changes for readers only when Save is pressed)."""
    if article is None:
        return url_for("editor.autosave_new")
    if article.status == ArticleStatus.DRAFT:
        return url_for("editor.autosave", article_id=article.id)
    return None


def _field_errors(form: ArticleForm) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, problems in form.errors.items():
        flat = [p for p in problems if isinstance(p, str)] if isinstance(problems, list) else []
        if flat:
            found[name] = "; ".join(flat)
    return found


def _autosave(article: Article | None) -> ResponseReturnValue:
    """Save the form as a draft (JSON for editor-form.js): never publishes, never
    touches a published article, and leaves the lead image to the form's Save."""
    if article is not None and article.status != ArticleStatus.DRAFT:
        return jsonify(saved=False, message="Published articles are saved with Save."), 409
    form = ArticleForm()
    if not form.validate():
        errors = _field_errors(form)
        message = "; ".join(f"{name}: {problem}" for name, problem in errors.items())
        return jsonify(saved=False, message=message or "Not valid yet.", fields=errors), 422
    changes = _changes_from(form, ArticleStatus.DRAFT.value if article is None else None)
    try:
        if article is None:
            article = articles.create_article(signed_in_user(), changes)
        else:
            articles.update_article(article, changes)
    except DomainError as error:
        db.session.rollback()
        fields = dict(error.fields or {})
        message = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
        return jsonify(saved=False, message=message or error.message, fields=fields), 422
    db.session.commit()
    return jsonify(
        saved=True,
        saved_at=article.updated_at.astimezone(UTC).strftime("%H:%M:%S UTC"),
        edit_url=url_for("editor.edit_article", article_id=article.id),
        autosave_url=url_for("editor.autosave", article_id=article.id),
    )


@bp.post("/articles/autosave")
@role_required(Role.EDITOR)
def autosave_new() -> ResponseReturnValue:
    return _autosave(None)


@bp.post("/articles/<int:article_id>/autosave")
@role_required(Role.EDITOR)
def autosave(article_id: int) -> ResponseReturnValue:
    return _autosave(article_or_404(article_id))


def _apply_lead_image(form: ArticleForm, article: Article) -> None:
    """The lead image as the form asks: removed, a new upload (with its alt text), or
    only a new alt text for the one it has."""
    if form.remove_lead_image.data:
        media.remove_lead_image(article)
        return
    upload = form.lead_image.data
    if isinstance(upload, FileStorage) and upload.filename:
        # One byte past the limit is enough to refuse.
        limit = current_app.config["MEDIA_MAX_UPLOAD_BYTES"]
        media.set_lead_image(article, upload.read(limit + 1), form.lead_image_alt.data)
    elif article.lead_image_key:
        set_lead_image_alt(article, form.lead_image_alt.data)


def _saved_message(action: str, article: Article) -> str:
    if article.is_scheduled and article.published_at is not None:
        when = article.published_at.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")
        return f"Scheduled: readers see it from {when}."
    return "Published." if action == "publish" else "Saved."


@bp.get("/")
@role_required(Role.EDITOR)
def dashboard() -> ResponseReturnValue:
    """Every article, drafts too, most recently changed first, a page at a time."""
    after = decode_key(request.args.get("after"), EDITOR_ARTICLES, (cursor_time, cursor_int))
    rows, next_key = articles.articles_for_editors(
        DASHBOARD_PAGE, (after[0], after[1]) if after else None
    )
    older = None
    if next_key is not None:
        when, last_id = next_key
        older = encode_cursor([when.isoformat(), last_id], EDITOR_ARTICLES)
    return render_template(
        "editor/dashboard.html", articles=rows, older_cursor=older, later_page=after is not None
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def new_article() -> ResponseReturnValue:
    return _save(ArticleForm(), None)


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def edit_article(article_id: int) -> ResponseReturnValue:
    article = article_or_404(article_id)
    form = ArticleForm()
    if request.method == "GET":
        _fill_form(form, article)
    return _save(form, article)


def _change_status(
    article_id: int, change: Callable[[Article], None], done: str
) -> ResponseReturnValue:
    """Publish or unpublish from the desk, then back to it saying what happened."""
    article = article_or_404(article_id)
    change(article)
    db.session.commit()
    flash(done.format(title=article.title), "success")
    return redirect(url_for("editor.dashboard"))


@bp.post("/articles/<int:article_id>/publish")
@role_required(Role.EDITOR)
def publish(article_id: int) -> ResponseReturnValue:
    return _change_status(article_id, articles.publish, "“{title}” is published.")


@bp.post("/articles/<int:article_id>/unpublish")
@role_required(Role.EDITOR)
def unpublish(article_id: int) -> ResponseReturnValue:
    return _change_status(
        article_id,
        articles.unpublish,
        "“{title}” is back to draft; readers no longer see it.",
    )
