"""The editor's CSV files: every vote of a poll, the results page's tables, the overview.

Every file is streamed: its text is made piece by piece (``csv_export.chunks``) while
it is sent, inside the request (``stream_with_context``), and the request log counts it
as it passes (``webapp.hardening``), so no file is ever held whole; each piece sent
tells gunicorn the worker is alive (``webapp.heartbeat``), so a file that takes longer
than the worker timeout to send is not cut off. The votes file, the
one that grows without bound, is also read in batches as it is sent: its first bytes
leave after one query and a worker holds one batch, whatever the poll's size."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from webapp import csv_export, heartbeat
from webapp.editor import bp
from webapp.editor.common import article_or_404, overview_order, poll_or_404, trend_query
from webapp.errors import NotFound
from webapp.models import Role
from webapp.security import role_required
from webapp.services import articles, insights
from webapp.services.polls import minds_changed


def _csv_file(filename: str, table: csv_export.CsvTable) -> Response:
    """``table`` as a CSV attachment, streamed as it is written."""
    return Response(
        stream_with_context(heartbeat.beating(csv_export.chunks(table))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/articles/<int:article_id>/votes.csv")
@role_required(Role.EDITOR)
def votes_csv(article_id: int) -> ResponseReturnValue:
    """Read in batches as it is sent: a poll may hold millions of votes."""
    article = article_or_404(article_id)
    return _csv_file(f"{article.slug}-votes.csv", insights.votes_table(poll_or_404(article)))


@bp.get("/articles/<int:article_id>/minds-changed.csv")
@role_required(Role.EDITOR)
def minds_changed_csv(article_id: int) -> ResponseReturnValue:
    """The results page's "Minds changed" per day: one row per day and pair of answers
    (withdrawals as rows of their own), set-aside votes left out."""
    article = article_or_404(article_id)
    changed = minds_changed.minds_changed(poll_or_404(article))
    return _csv_file(f"{article.slug}-minds-changed.csv", minds_changed.csv_table(changed))


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
    return _csv_file(f"{article.slug}-{name}.csv", table)


@bp.get("/overview.csv")
@role_required(Role.EDITOR)
def overview_csv() -> ResponseReturnValue:
    """The overview's figures for every article, in the page's order, read a page at
    a time as the file is sent."""
    sort, direction = overview_order()
    rows = insights.overview_rows(sort, insights.resolve_order(sort, direction))
    return _csv_file("overview.csv", insights.overview_table(rows))


@bp.get("/overview/trend.csv")
@role_required(Role.EDITOR)
def trend_csv() -> ResponseReturnValue:
    label, option = trend_query()
    table = insights.trend_table(insights.trend_rows(label, option))
    return _csv_file(f"{articles.slugify(label) or 'label'}-trend.csv", table)
