"""The charts of the editor's results and overview pages, drawn from the services' figures.

Geometry lives in ``webapp.charts``; here is only what each chart shows. Each is
None when there is nothing to draw: the page then says so, and the tables beside
the charts carry the same numbers either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from webapp.charts import BarChart, LineChart, bar_chart, line_chart
from webapp.models import Poll
from webapp.services import insights, polls


def signed(value: float) -> str:
    """A tone as charts write it: ``+0.15``, ``-0.60``."""
    return f"{value:+.2f}"


def signed_text(value: float) -> str:
    """A tone as prose writes it, with a true minus sign: ``−0.05``."""
    return signed(value).replace("-", "\N{MINUS SIGN}")


def mean_text(mean: float | None, interval: tuple[float, float] | None) -> str:
    """A mean tone with its 95 % interval as prose writes it: ``−0.21 (−0.30 to
    −0.12)``; the mean alone below two scored comments; ``—`` without a mean."""
    if mean is None:
        return "—"
    if interval is None:
        return signed_text(mean)
    low, high = interval
    return f"{signed_text(mean)} ({signed_text(low)} to {signed_text(high)})"


def tone_text(tone: insights.Tone) -> str:
    """A group's mean tone with its interval (``mean_text``); ``—`` without comments."""
    return mean_text(tone.mean, tone.interval) if tone.count else "—"


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _comments(count: int) -> str:
    return f"{count} comment{'' if count == 1 else 's'}"


def _count_axis(largest: int) -> int:
    """An axis end that is a multiple of four, so the five ticks are whole numbers."""
    return max(4, -(-largest // 4) * 4)


def vote_shares(poll: Poll | None, days: list[polls.TimelineDay]) -> LineChart | None:
    """Each option's share of the votes held at the end of each day; None before a
    second day (one day would be a lone dot: the page says "one day so far" instead)."""
    if poll is None or len(days) < 2:
        return None
    return line_chart(
        "Share of votes held by each option, day by day",
        [day.day.strftime("%d %b") for day in days],
        {option.label: [day.share(option.id) * 100 for day in days] for option in poll.options},
        y_max=100,
        y_format=_percent,
    )


@dataclass(frozen=True)
class ToneCharts:
    distribution: BarChart | None  # comments by label
    over_time: LineChart | None  # mean tone day by day
    by_vote: BarChart | None  # mean tone by the author's poll answer (None without a poll)


def tone_charts(poll: Poll | None, found: insights.ArticleInsights) -> ToneCharts:
    """The tone figures as charts: distribution, mean by day, mean by poll answer."""
    tone = found.comments
    if not tone.count:
        return ToneCharts(None, None, None)
    labels = insights.LABELS
    distribution = bar_chart(
        "Comments by tone",
        [(label.capitalize(), tone.by_label(label)) for label in labels],
        texts=[f"{tone.by_label(label)} ({tone.share(label):.0%})" for label in labels],
        kinds=[f"tone-{label}" for label in labels],
        x_max=_count_axis(max(tone.by_label(label) for label in labels)),
        x_format=lambda v: f"{v:.0f}",
    )
    commented = [day for day in found.timeline if day.comments]
    # One day of comments would draw a lone dot: the page says "one day so far".
    over_time = (
        line_chart(
            "Mean tone of each day's comments (−1 most negative, +1 most positive)",
            [day.day.strftime("%d %b") for day in commented],
            {"Mean tone": [day.mean for day in commented]},
            y_min=-1.0,
            y_max=1.0,
            y_format=signed,
        )
        if len(commented) >= 2
        else None
    )
    by_vote = None
    if poll is not None:
        groups = [(option.label, found.by_vote.options[option.id]) for option in poll.options]
        groups.append(("Did not vote", found.by_vote.no_vote))

        def text(group: insights.Tone) -> str:
            if not group.count:
                return "no comments"
            if found.suppressed(group):
                return f"{_comments(group.count)}: too few to show tone"
            return f"{signed(group.mean)} · {_comments(group.count)}"

        # A group too small to show its tone draws no bar (its text says why).
        by_vote = bar_chart(
            "Mean tone of comments by how their author voted",
            [(label, 0.0 if found.suppressed(group) else group.mean) for label, group in groups],
            texts=[text(group) for _, group in groups],
            kinds=[
                "tone-neutral"
                if found.suppressed(group)
                else f"tone-{insights.label_for(group.mean)}"
                for _, group in groups
            ],
            x_min=-1.0,
            x_max=1.0,
            x_format=signed,
        )
    return ToneCharts(distribution, over_time, by_vote)


def trend(points: list[insights.TrendPoint], label: str) -> LineChart | None:
    """One answer's share in each poll of a label, with whiskers for the intervals."""
    if not points:
        return None
    name = points[0].option
    return line_chart(
        f"Share answering “{name}” in each poll labelled {label}, by publication date",
        [point.published_at.strftime("%d %b %Y") for point in points],
        {name: [point.share * 100 for point in points]},
        y_max=100,
        y_format=_percent,
        intervals={name: [(low * 100, high * 100) for low, high in (p.interval for p in points)]},
    )


class ComparedAnswer(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def counted_share(self) -> float: ...
    @property
    def stored_share(self) -> float: ...


def with_and_without(rows: Sequence[ComparedAnswer]) -> BarChart | None:
    """The integrity panel's chart: each answer's share of the counted votes (what
    readers see) beside its share of every stored vote, set-aside ones included."""
    if not rows:
        return None
    bars: list[tuple[str, float]] = []
    kinds: list[str] = []
    for row in rows:
        bars.append((f"{row.label} · counted", row.counted_share * 100))
        kinds.append("integrity-counted")
        bars.append((f"{row.label} · all stored", row.stored_share * 100))
        kinds.append("integrity-stored")
    return bar_chart(
        "Share of each answer: counted votes, and all stored votes (set-aside included)",
        bars,
        texts=[f"{value:.1f}%" for _, value in bars],
        kinds=kinds,
        x_max=100,
        x_format=_percent,
    )
