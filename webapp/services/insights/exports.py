"""The editor's figures as CSV tables: a header and rows, figures kept numbers.

Means are left empty where there is no comment to average (the API says 0.0,
but a spreadsheet should not average in days or groups that have none). Every
figure goes in through ``csv_export.figure`` so it stays a number in the file
(see ``webapp.csv_export`` on spreadsheet safety).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

from webapp.csv_export import Cell, CsvTable, figure
from webapp.models import Poll
from webapp.services import polls
from webapp.services.insights.all_articles import OverviewRow
from webapp.services.insights.article import ArticleInsights
from webapp.services.insights.comment_tone import Tone
from webapp.services.insights.trend import TrendPoint

SentimentTable = Literal["timeline", "tone", "shares"]
#: The parts of the results page offered as CSV; the first is the default.
SENTIMENT_TABLES: tuple[SentimentTable, ...] = ("timeline", "tone", "shares")


def _tone_row(name: str, tone: Tone) -> list[Cell]:
    mean = figure(tone.mean) if tone.count else ""
    # The mean's 95 % interval, as the results page shows it; empty below two scores.
    interval = tone.interval
    low, high = ("", "") if interval is None else (figure(interval[0]), figure(interval[1]))
    return [name, tone.count, mean, low, high, tone.positive, tone.neutral, tone.negative]


def sentiment_table(
    table: SentimentTable, poll: Poll | None, found: ArticleInsights
) -> CsvTable | None:
    """The figures behind one part of the results page; None when the article has no
    such part (``shares`` without a poll)."""
    options = list(poll.options) if poll is not None else []
    if table == "timeline":
        return CsvTable(
            ["date", *(f"votes: {o.label}" for o in options), "votes", "comments", "mean_tone"],
            [
                [
                    day.date,
                    *(day.votes.get(o.id, 0) for o in options),
                    day.votes_cast,
                    day.comments,
                    figure(day.mean) if day.comments else "",
                ]
                for day in found.timeline
            ],
        )
    if table == "tone":
        rows = [_tone_row("all comments", found.comments)]
        if poll is not None:
            rows += [_tone_row(f"voted: {o.label}", found.by_vote.options[o.id]) for o in options]
            rows.append(_tone_row("did not vote", found.by_vote.no_vote))
        return CsvTable(
            [
                "group",
                "comments",
                "mean_tone",
                "mean_tone_low",
                "mean_tone_high",
                "positive",
                "neutral",
                "negative",
            ],
            rows,
        )
    if found.results is None:
        return None
    return CsvTable(
        ["option", "votes", "share", "ci_low", "ci_high"],
        [
            [o.label, o.votes, figure(o.share), figure(o.ci_low), figure(o.ci_high)]
            for o in found.results.options
        ],
    )


def votes_table(poll: Poll) -> CsvTable:
    """Every vote of the poll, no personal data; rows are read lazily, in batches, as
    the file is sent (``polls.export_rows``), so read them inside the request."""
    poll_id, labels = poll.id, {option.id: option.label for option in poll.options}

    def rows() -> Iterator[list[Cell]]:
        for number, label, kind, cast_at, changed_at in polls.export_rows(poll_id, labels):
            yield [number, label, kind, cast_at.isoformat(), changed_at.isoformat()]

    return CsvTable(["vote", "option", "voter", "cast_at", "changed_at"], rows())


def overview_table(rows: Iterable[OverviewRow]) -> CsvTable:
    """The overview's figures of ``rows`` (a page's, or ``overview_rows``), in order;
    read as the file is written."""
    return CsvTable(
        [
            "title",
            "slug",
            "status",
            "published_at",
            "leader",
            "leader_share",
            "turnout",
            "comments",
            "mean_tone",
        ],
        (
            [
                row.title,
                row.slug,
                row.status,
                row.published_at.isoformat() if row.published_at else "",
                row.leader or "",
                figure(row.leader_share) if row.leader_share is not None else "",
                row.turnout if row.has_poll else "",
                row.comments,
                figure(row.mean_tone) if row.mean_tone is not None else "",
            ]
            for row in rows
        ),
    )


def trend_table(points: Iterable[TrendPoint]) -> CsvTable:
    """One answer's share in each poll of a label, with its 95% Wilson interval; the
    points are read as the file is written."""

    def rows() -> Iterator[list[Cell]]:
        for point in points:
            low, high = point.interval
            yield [
                point.published_at.isoformat(),
                point.title,
                point.slug,
                point.option,
                point.votes,
                point.turnout,
                figure(point.share),
                figure(low),
                figure(high),
            ]

    return CsvTable(
        [
            "published_at",
            "title",
            "slug",
            "option",
            "votes",
            "turnout",
            "share",
            "ci_low",
            "ci_high",
        ],
        rows(),
    )
