"""Results pages: one article's poll and comment tone, and every article at a glance."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from webapp.editor import bp, figures
from webapp.editor.common import (
    article_or_404,
    overview_after,
    overview_cursor,
    overview_order,
    trend_before,
    trend_cursor,
    trend_query,
)
from webapp.models import Role
from webapp.security import role_required
from webapp.services import articles, insights, polls

#: Articles on a page of the overview.
OVERVIEW_PAGE = 50


@bp.get("/articles/<int:article_id>/results")
@role_required(Role.EDITOR)
def results(article_id: int) -> ResponseReturnValue:
    """The poll, the comments' tone and the two together; works without a poll too."""
    article = article_or_404(article_id)
    poll = article.poll
    days = polls.timeline(poll) if poll is not None else []
    found = insights.for_article(article)
    most_positive, most_negative = insights.examples(article.id)
    return render_template(
        "editor/results.html",
        article=article,
        poll=poll,
        results=found.results,
        days=days,
        chart=figures.vote_shares(poll, days),
        insights=found,
        tone_charts=figures.tone_charts(poll, found),
        labels=insights.LABELS,
        mean_label=insights.label_for(found.comments.mean),
        neutral_from=figures.signed_text(insights.NEGATIVE_THRESHOLD),
        neutral_to=figures.signed_text(insights.POSITIVE_THRESHOLD),
        examples=[
            ("Most positive", most_positive, insights.POSITIVE),
            ("Most negative", most_negative, insights.NEGATIVE),
        ],
    )


@bp.get("/overview")
@role_required(Role.EDITOR)
def overview() -> ResponseReturnValue:
    """Every article at a glance, a page at a time, and one poll option followed
    across a label."""
    sort, wanted = overview_order()
    direction = insights.resolve_order(sort, wanted)
    after = overview_after(sort, direction)
    table = insights.overview(sort, direction, after, OVERVIEW_PAGE)
    labels = insights.poll_labels()
    label, option = trend_query()
    label_name = dict(labels).get(label)
    choices: list[str] = []
    trend = insights.TrendPage(points=[], earlier_key=None)
    before = trend_before(label, option)
    if label_name:
        choices = insights.option_choices(label)
        if option:
            trend = insights.recent_trend(label, option, before=before)
    return render_template(
        "editor/overview.html",
        table=table,
        next_cursor=overview_cursor(table),
        later_page=after is not None,
        labels=labels,
        label=label,
        label_name=label_name,
        option=option,
        option_max=articles.MAX_OPTION,
        choices=choices,
        trend=trend.points,
        trend_chart=figures.trend(trend.points, label_name or ""),
        trend_earlier=trend_cursor(label, option, trend),
        trend_later_page=before is not None,
        trend_points=insights.TREND_POINTS,
    )
