"""The editor's CSV files: every vote of a poll, the results page's tables, the overview."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from webapp import csv_export
from webapp.editor import bp
from webapp.editor.common import article_or_404, overview_order, poll_or_404, trend_query
from webapp.errors import NotFound
from webapp.models import Role
from webapp.security import role_required
from webapp.services import articles, insights


def _csv_file(filename: str, body: str | Iterable[str]) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/articles/<int:article_id>/votes.csv")
@role_required(Role.EDITOR)
def votes_csv(article_id: int) -> ResponseReturnValue:
    """Streamed as it is read: a poll may hold millions of votes."""
    article = article_or_404(article_id)
    table = insights.votes_table(poll_or_404(article))
    return _csv_file(f"{article.slug}-votes.csv", stream_with_context(csv_export.chunks(table)))


def _sentiment_table(name: str) -> insights.SentimentTable:
    for table in insights.SENTIMENT_TABLES:
        if table == name:
            return table
    raise NotFound("No such table.")


@bp.get("/articles/<int:article_id>/sentiment.csv")
@role_required(Role.EDITOR)
def sentiment_csv(article_id: int) -> ResponseReturnValue:
    """``?table=timeline`` (default), ``tone`` (by label and poll answer) or ``shares``."""
    article = article_or_404(article_id)
    name = _sentiment_table(request.args.get("table", insights.SENTIMENT_TABLES[0]))
    table = insights.sentiment_table(name, article.poll, insights.for_article(article))
    if table is None:
        raise NotFound("No such table.")
    return _csv_file(f"{article.slug}-{name}.csv", csv_export.text(table))


@bp.get("/overview.csv")
@role_required(Role.EDITOR)
def overview_csv() -> ResponseReturnValue:
    """The overview's figures for every article, in the page's order."""
    sort, direction = overview_order()
    page = insights.overview(sort, direction, per_page=None)
    return _csv_file("overview.csv", csv_export.text(insights.overview_table(page)))


@bp.get("/overview/trend.csv")
@role_required(Role.EDITOR)
def trend_csv() -> ResponseReturnValue:
    label, option = trend_query()
    table = insights.trend_table(insights.option_trend(label, option))
    return _csv_file(f"{articles.slugify(label) or 'label'}-trend.csv", csv_export.text(table))
