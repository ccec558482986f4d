"""Sentiment results: what readers voted, how their comments feel, and the two together.

The rules every figure here follows, in one place:

- Comments counted are the ones readers see: published and not deleted
  (``comment_tone.PUBLIC_COMMENTS``).
- A comment's tone is the score stored when it was written or last re-scored
  (``sentiment``); labels are the stored labels.
- A mean is over the comments that have a score (all of them once
  ``sentiment rescore`` has run) and is ``0.0`` when there are none: always a
  number, so a chart or a consumer of the API never meets a null.
- "By vote" matches a comment's author with their vote in the article's poll
  through the vote's user id.
- Days are UTC calendar days. Votes per day come from the daily rollup
  (``PollDailyTally.votes_cast``), never from the vote rows.

Every aggregate is grouped in the database, so a page costs a few queries whatever
the number of votes and comments. The functions take plain typed values and never
read the request, so the API, the editor's pages and the tests share them.

- ``sentiment``: scoring a comment's text (the pluggable analyser) and re-scoring;
- ``comment_tone``: the tone of an article's comments, by vote, and examples;
- ``days``: votes and comments day by day (``utc_day``);
- ``article``: one article's figures together (``for_article``);
- ``all_articles``: the sortable overview of every article;
- ``trend``: one answer followed across the polls of a label;
- ``exports``: those figures as CSV tables;
- ``accuracy``: the configured analyser's measured accuracy, as the evaluation
  published it (the pages' "how far to trust it" line);
- ``corrections``: moderators' tone corrections, and the analyser measured on them.

A mean tone comes with its normal-approximation 95 % interval
(``comment_tone.mean_interval``, from the counters' sums of scores and squares), and
a poll answer's group below ``SENTIMENT_MIN_GROUP_COMMENTS`` comments shows its count
only (``ArticleInsights.suppressed``).
"""

from webapp.services.insights.all_articles import (
    DEFAULT_SORT,
    DIRECTIONS,
    OVERVIEW_SORTS,
    Direction,
    OverviewKey,
    OverviewPage,
    OverviewRow,
    OverviewSort,
    overview,
    overview_rows,
    resolve_order,
)
from webapp.services.insights.article import ArticleInsights, for_article
from webapp.services.insights.comment_tone import (
    PUBLIC_COMMENTS,
    Example,
    Tone,
    ToneByVote,
    examples,
    tone,
    tone_by_vote,
)
from webapp.services.insights.days import Day, timeline, utc_day
from webapp.services.insights.exports import (
    SENTIMENT_TABLES,
    SentimentTable,
    overview_table,
    sentiment_table,
    trend_table,
    votes_table,
)
from webapp.services.insights.sentiment import (
    LABELS,
    NEGATIVE,
    NEGATIVE_THRESHOLD,
    NEUTRAL,
    POSITIVE,
    POSITIVE_THRESHOLD,
    Sentiment,
    SentimentAnalyser,
    analyse,
    label_for,
    rescore_comments,
)
from webapp.services.insights.trend import (
    TREND_POINTS,
    TrendKey,
    TrendPage,
    TrendPoint,
    option_choices,
    option_trend,
    poll_labels,
    recent_trend,
    trend_rows,
)

__all__ = [
    "DEFAULT_SORT",
    "DIRECTIONS",
    "LABELS",
    "NEGATIVE",
    "NEGATIVE_THRESHOLD",
    "NEUTRAL",
    "OVERVIEW_SORTS",
    "POSITIVE",
    "POSITIVE_THRESHOLD",
    "PUBLIC_COMMENTS",
    "SENTIMENT_TABLES",
    "ArticleInsights",
    "Day",
    "Direction",
    "Example",
    "OverviewKey",
    "OverviewPage",
    "OverviewRow",
    "OverviewSort",
    "Sentiment",
    "SentimentAnalyser",
    "SentimentTable",
    "Tone",
    "ToneByVote",
    "TrendPoint",
    "analyse",
    "examples",
    "for_article",
    "label_for",
    "option_choices",
    "option_trend",
    "recent_trend",
    "trend_rows",
    "TREND_POINTS",
    "TrendKey",
    "TrendPage",
    "overview",
    "overview_rows",
    "overview_table",
    "poll_labels",
    "rescore_comments",
    "resolve_order",
    "sentiment_table",
    "timeline",
    "tone",
    "tone_by_vote",
    "trend_table",
    "utc_day",
    "votes_table",
]
