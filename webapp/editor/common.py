"""What the editor's pages share: the article a URL names, the overview's query string
and its cursors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import request

from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import Article, Poll
from webapp.pagination import (
    OVERVIEW,
    TREND,
    cursor_equal,
    cursor_float,
    cursor_int,
    cursor_optional,
    cursor_str,
    cursor_time,
    decode_key,
    encode_cursor,
)
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


#: How each overview sort's value is read back from a cursor (None: an empty value).
_SORT_VALUES: dict[insights.OverviewSort, Callable[[Any], Any]] = {
    "title": cursor_str,
    "published": cursor_optional(cursor_time),
    "leader": cursor_optional(cursor_float),
    "turnout": cursor_optional(cursor_int),
    "comments": cursor_int,
    "tone": cursor_optional(cursor_int),
}


def overview_after(
    sort: insights.OverviewSort, direction: insights.Direction
) -> insights.OverviewKey | None:
    """``after``, where the page to show starts: None for the first page; 400 for a
    cursor the overview did not issue, or issued for another order."""
    key = decode_key(
        request.args.get("after"),
        OVERVIEW,
        (cursor_equal(sort), cursor_equal(direction), _SORT_VALUES[sort], cursor_int),
    )
    return (key[2], key[3]) if key else None


def overview_cursor(page: insights.OverviewPage) -> str | None:
    """The cursor of the page after ``page``; None on the last page."""
    if page.next_key is None:
        return None
    value, last_id = page.next_key
    shown = value.isoformat() if isinstance(value, datetime) else value
    return encode_cursor([page.sort, page.direction, shown, last_id], OVERVIEW)


def trend_query() -> tuple[str, str]:
    """The label's slug and the answer's text (spaces trimmed) the trend is asked for."""
    return request.args.get("label", ""), request.args.get("option", "").strip()


def trend_before(label: str, option: str) -> insights.TrendKey | None:
    """``before``, where the trend's page ends going back: None for the latest polls;
    400 for a cursor the trend did not issue, or issued for another label or answer."""
    key = decode_key(
        request.args.get("before"),
        TREND,
        (cursor_equal(label), cursor_equal(option), cursor_time, cursor_int),
    )
    return (key[2], key[3]) if key else None


def trend_cursor(label: str, option: str, page: insights.TrendPage) -> str | None:
    """The cursor of the polls before ``page``; None when it holds the first."""
    if page.earlier_key is None:
        return None
    when, article_id = page.earlier_key
    return encode_cursor([label, option, when.isoformat(), article_id], TREND)
