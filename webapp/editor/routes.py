from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC
from decimal import Decimal
from typing import Any

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from webapp.charts import BarChart, LineChart, bar_chart, line_chart
from webapp.csv_export import SafeCsvWriter, figure
from webapp.editor import bp
from webapp.errors import DomainError, NotFound
from webapp.extensions import db
from webapp.forms.articles import ArticleForm
from webapp.models import Article, ArticleStatus, Poll, Role
from webapp.security import role_required, signed_in_user
from webapp.services import articles, insights, polls
from webapp.services.markup import render_article
from webapp.services.insights.sentiment import LABELS, label_for

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
        labels=[name for name in (form.labels.data or "").split(",") if name.strip()],
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
    """The poll, the comments' tone and the two together; works without a poll too."""
    article = _article(article_id)
    poll = article.poll
    days = polls.timeline(poll) if poll is not None else []
    chart = None
    if poll is not None and days:
        chart = line_chart(
            "Share of votes held by each option, day by day",
            [day.day.strftime("%d %b") for day in days],
            {option.label: [day.share(option.id) * 100 for day in days] for option in poll.options},
            y_max=100,
            y_format=lambda v: f"{v:.0f}%",
        )
    found = insights.for_article(article)
    most_positive, most_negative = insights.examples(article.id)
    return render_template(
        "editor/results.html",
        article=article,
        poll=poll,
        results=found.results,
        days=days,
        chart=chart,
        insights=found,
        tone_charts=tone_charts(poll, found),
        mean_label=label_for(found.comments.mean),
        most_positive=most_positive,
        most_negative=most_negative,
    )


@bp.get("/articles/<int:article_id>/votes.csv")
@role_required(Role.EDITOR)
def votes_csv(article_id: int):  # type: ignore[no-untyped-def]
    article = _article(article_id)
    poll = _poll_of(article)
    poll_id, labels = poll.id, {option.id: option.label for option in poll.options}

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
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


# --- sentiment results: charts, CSV and the overview ------------------------------------


def _signed(value: float) -> str:
    return f"{value:+.2f}"


def _comments(count: int) -> str:
    return f"{count} comment{'' if count == 1 else 's'}"


def _count_axis(largest: int) -> int:
    """An axis end that is a multiple of four, so the five ticks are whole numbers."""
    return max(4, -(-largest // 4) * 4)


def tone_charts(poll: Poll | None, found: insights.ArticleInsights) -> dict[str, Any]:
    """The tone figures as charts: distribution, mean by day, mean by poll answer.

    Each is None when there is nothing to draw; the page then says so, and the
    tables carry the same numbers either way.
    """
    tone = found.comments
    charts: dict[str, BarChart | LineChart | None] = dict.fromkeys(
        ("distribution", "over_time", "by_vote")
    )
    if not tone.count:
        return charts
    charts["distribution"] = bar_chart(
        "Comments by tone",
        [(label.capitalize(), getattr(tone, label)) for label in LABELS],
        texts=[f"{getattr(tone, label)} ({tone.share(label):.0%})" for label in LABELS],
        kinds=[f"tone-{label}" for label in LABELS],
        x_max=_count_axis(max(tone.positive, tone.neutral, tone.negative)),
        x_format=lambda v: f"{v:.0f}",
    )
    commented = [day for day in found.timeline if day.comments]
    charts["over_time"] = line_chart(
        "Mean tone of each day's comments (−1 most negative, +1 most positive)",
        [day.day.strftime("%d %b") for day in commented],
        {"Mean tone": [day.mean for day in commented]},
        y_min=-1.0,
        y_max=1.0,
        y_format=_signed,
    )
    if poll is not None:
        groups = [(option.label, found.by_vote.options[option.id]) for option in poll.options]
        groups.append(("Did not vote", found.by_vote.no_vote))
        charts["by_vote"] = bar_chart(
            "Mean tone of comments by how their author voted",
            [(label, group.mean) for label, group in groups],
            texts=[
                f"{_signed(group.mean)} · {_comments(group.count)}"
                if group.count
                else "no comments"
                for _, group in groups
            ],
            kinds=[f"tone-{label_for(group.mean)}" for _, group in groups],
            x_min=-1.0,
            x_max=1.0,
            x_format=_signed,
        )
    return charts


def _csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> Response:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _figure(value: float) -> Decimal:
    # A number, not text, so the CSV writer leaves it a number (see webapp.csv_export).
    return figure(value)


def _tone_row(name: str, tone: insights.Tone) -> list[Any]:
    mean = _figure(tone.mean) if tone.count else ""
    return [name, tone.count, mean, tone.positive, tone.neutral, tone.negative]


def _sentiment_table(
    table: str, poll: Poll | None, found: insights.ArticleInsights
) -> tuple[list[str], list[list[Any]]]:
    """The figures behind one part of the results page, as CSV header and rows.

    Means are left empty where there is no comment to average (the API says 0.0,
    but a spreadsheet should not average in days or groups that have none).
    """
    options = list(poll.options) if poll is not None else []
    if table == "timeline":
        header = ["date", *(f"votes: {o.label}" for o in options), "votes", "comments", "mean_tone"]
        rows = [
            [
                day.date,
                *(day.votes.get(o.id, 0) for o in options),
                day.votes_cast,
                day.comments,
                _figure(day.mean) if day.comments else "",
            ]
            for day in found.timeline
        ]
        return header, rows
    if table == "tone":
        header = ["group", "comments", "mean_tone", "positive", "neutral", "negative"]
        rows = [_tone_row("all comments", found.comments)]
        if poll is not None:
            rows += [_tone_row(f"voted: {o.label}", found.by_vote.options[o.id]) for o in options]
            rows.append(_tone_row("did not vote", found.by_vote.no_vote))
        return header, rows
    if table == "shares" and found.results is not None:
        header = ["option", "votes", "share", "ci_low", "ci_high"]
        rows = [
            [o.label, o.votes, _figure(o.share), _figure(o.ci_low), _figure(o.ci_high)]
            for o in found.results.options
        ]
        return header, rows
    raise NotFound("No such table.")


@bp.get("/articles/<int:article_id>/sentiment.csv")
@role_required(Role.EDITOR)
def sentiment_csv(article_id: int):  # type: ignore[no-untyped-def]
    """``?table=timeline`` (default), ``tone`` (by label and poll answer) or ``shares``."""
    article = _article(article_id)
    table = request.args.get("table", "timeline")
    header, rows = _sentiment_table(table, article.poll, insights.for_article(article))
    return _csv_response(f"{article.slug}-{table}.csv", header, rows)


def _overview_args() -> dict[str, Any]:
    """Sort, direction and page from the query; anything unknown falls back to defaults."""
    sort = request.args.get("sort", "published")
    if sort not in insights.OVERVIEW_SORTS:
        sort = "published"
    direction = request.args.get("dir")
    if direction not in insights.DIRECTIONS:
        direction = None
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    return {"sort": sort, "direction": direction, "page": page}


def _trend_chart(points: list[insights.TrendPoint], option: str, label: str) -> LineChart:
    name = points[0].option if points else option
    return line_chart(
        f"Share answering “{name}” in each poll labelled {label}, by publication date",
        [point.published_at.strftime("%d %b %Y") for point in points],
        {name: [point.share * 100 for point in points]},
        y_max=100,
        y_format=lambda v: f"{v:.0f}%",
        intervals={name: [(low * 100, high * 100) for low, high in (p.interval for p in points)]},
    )


@bp.get("/overview")
@role_required(Role.EDITOR)
def overview():  # type: ignore[no-untyped-def]
    """Every article at a glance, and one poll option followed across a label."""
    table = insights.overview(**_overview_args())
    labels = insights.poll_labels()
    label = request.args.get("label", "")
    option = request.args.get("option", "").strip()
    label_name = dict(labels).get(label)
    choices: list[str] = []
    trend: list[insights.TrendPoint] = []
    if label_name:
        choices = insights.option_choices(label)
        if option:
            trend = insights.option_trend(label, option)
    return render_template(
        "editor/overview.html",
        table=table,
        labels=labels,
        label=label,
        label_name=label_name,
        option=option,
        choices=choices,
        trend=trend,
        trend_chart=_trend_chart(trend, option, label_name or "") if trend else None,
    )


@bp.get("/overview.csv")
@role_required(Role.EDITOR)
def overview_csv():  # type: ignore[no-untyped-def]
    """The overview's figures for every article, in the page's order."""
    args = _overview_args()
    table = insights.overview(args["sort"], args["direction"], per_page=None)
    header = [
        "title",
        "slug",
        "status",
        "published_at",
        "leader",
        "leader_share",
        "turnout",
        "comments",
        "mean_tone",
    ]
    rows = [
        [
            row.title,
            row.slug,
            row.status,
            row.published_at.isoformat() if row.published_at else "",
            row.leader or "",
            _figure(row.leader_share) if row.leader_share is not None else "",
            row.turnout if row.has_poll else "",
            row.comments,
            _figure(row.mean_tone) if row.mean_tone is not None else "",
        ]
        for row in table.rows
    ]
    return _csv_response("overview.csv", header, rows)


@bp.get("/overview/trend.csv")
@role_required(Role.EDITOR)
def trend_csv():  # type: ignore[no-untyped-def]
    label = request.args.get("label", "")
    option = request.args.get("option", "").strip()
    points = insights.option_trend(label, option)
    header = [
        "published_at",
        "title",
        "slug",
        "option",
        "votes",
        "turnout",
        "share",
        "ci_low",
        "ci_high",
    ]
    rows = []
    for point in points:
        low, high = point.interval
        rows.append(
            [
                point.published_at.isoformat(),
                point.title,
                point.slug,
                point.option,
                point.votes,
                point.turnout,
                _figure(point.share),
                _figure(low),
                _figure(high),
            ]
        )
    return _csv_response(f"{articles.slugify(label) or 'label'}-trend.csv", header, rows)
