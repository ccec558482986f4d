"""What the editor's pages share: the article a URL names, the overview's query string."""

from __future__ import annotations

from flask import request

from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import Article, Poll
from webapp.services import insights


def article_or_404(article_id: int) -> Article:
    """Any article, draft or published: editors see them all."""
    found = db.session.get(Article, article_id)
    if found is None:
        raise NotFound("No such article.")
    return found


def poll_or_404(article: Article) -> Poll:
    if article.poll is None:
        raise NotFound("This article has no poll.")
    return article.poll


def overview_order() -> tuple[insights.OverviewSort, insights.Direction | None]:
    """``sort`` and ``dir`` from the query; anything unknown falls back to the defaults
    (None: the column's own direction)."""
    wanted_sort = request.args.get("sort")
    wanted_direction = request.args.get("dir")
    sort = next((key for key in insights.OVERVIEW_SORTS if key == wanted_sort), None)
    direction = next((key for key in insights.DIRECTIONS if key == wanted_direction), None)
    return sort or insights.DEFAULT_SORT, direction


def overview_page() -> int:
    """``page`` from the query; anything but a whole number is the first page (the
    service brings a number past the end back to the last page)."""
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def trend_query() -> tuple[str, str]:
    """The label's slug and the answer's text (spaces trimmed) the trend is asked for."""
    return request.args.get("label", ""), request.args.get("option", "").strip()
