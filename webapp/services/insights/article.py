"""One article's figures: the poll's results, the comments' tone, the two together, by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webapp.models import Article
from webapp.services import polls
from webapp.services.insights.comment_tone import Tone, ToneByVote, tone_by_vote
from webapp.services.insights.days import Day, timeline


@dataclass(frozen=True)
class ArticleInsights:
    """Everything the Sentiment answer and the editor's results page show.

    ``by_vote.no_vote`` is the tone of comments whose authors did not vote (all of
    them when the article has no poll); ``comments`` is the sum of the groups.
    """

    results: polls.PollResults | None  # None when the article has no poll
    comments: Tone
    by_vote: ToneByVote
    timeline: list[Day]


def for_article(article: Article, moment: datetime | None = None) -> ArticleInsights:
    """Three grouped queries, whatever the number of votes and comments."""
    poll = article.poll
    poll_id = poll.id if poll is not None else None
    option_ids = [option.id for option in poll.options] if poll is not None else []
    by_vote = tone_by_vote(article.id, poll_id, option_ids)
    return ArticleInsights(
        results=polls.results(poll, moment) if poll is not None else None,
        comments=by_vote.overall,
        by_vote=by_vote,
        timeline=timeline(article.id, poll_id, option_ids),
    )
