"""One article's figures: the poll's results, the comments' tone, the two together, by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from webapp.models import Article
from webapp.services import polls
from webapp.services.insights.comment_tone import Tone, ToneByVote, tone_by_vote
from webapp.services.insights.days import Day, timeline
from webapp.services.insights.refine import pending_refinements


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
    #: Below this many comments a poll answer's group shows its count, not its tone
    #: (``SENTIMENT_MIN_GROUP_COMMENTS``): a mean of a handful says little, and can
    #: say how a few named commenters voted.
    min_group_comments: int = 0
    #: Comments still waiting for their refined score (the job runner).
    pending: int = 0

    def suppressed(self, group: Tone) -> bool:
        """Whether a poll answer's group is too small to show its tone."""
        return group.count < self.min_group_comments


def for_article(
    article: Article, moment: datetime | None = None, min_group_comments: int | None = None
) -> ArticleInsights:
    """Three grouped queries, whatever the number of votes and comments (and one
    more for the comments waiting for their refined score)."""
    poll = article.poll
    poll_id = poll.id if poll is not None else None
    option_ids = [option.id for option in poll.options] if poll is not None else []
    by_vote = tone_by_vote(article.id, poll_id, option_ids)
    if min_group_comments is None:
        min_group_comments = int(current_app.config.get("SENTIMENT_MIN_GROUP_COMMENTS", 10))
    return ArticleInsights(
        results=polls.results(poll, moment) if poll is not None else None,
        comments=by_vote.overall,
        by_vote=by_vote,
        timeline=timeline(article.id, poll_id, option_ids),
        min_group_comments=min_group_comments,
        pending=pending_refinements(article.id),
    )
