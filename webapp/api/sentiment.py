"""The contract's Sentiment answer: the poll, the comments' tone, and the two together."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from webapp.api import bp
from webapp.api.common import viewer
from webapp.api.serializers import results_json
from webapp.errors import ResultsHidden
from webapp.services import articles, insights
from webapp.services import polls as poll_rules
from webapp.voters import current_voter_key


def tone_json(tone: insights.Tone) -> dict[str, Any]:
    return {
        "count": tone.count,
        "mean": tone.mean,
        "positive": tone.positive,
        "neutral": tone.neutral,
        "negative": tone.negative,
    }


def sentiment_json(found: insights.ArticleInsights) -> dict[str, Any]:
    """The contract's fields, plus ``no_vote``: the tone of comments whose authors did
    not vote in the poll (null when the article has no poll to vote in)."""
    has_poll = found.results is not None
    return {
        "poll": results_json(found.results) if found.results is not None else None,
        "comments": tone_json(found.comments),
        "by_vote": {
            str(option_id): tone_json(tone) for option_id, tone in found.by_vote.options.items()
        },
        "no_vote": tone_json(found.by_vote.no_vote) if has_poll else None,
        "timeline": [
            {
                "date": day.date,
                "votes": {str(option_id): n for option_id, n in day.votes.items()},
                "comments": day.comments,
                "mean": day.mean,
            }
            for day in found.timeline
        ],
    }


@bp.get("/articles/<slug>/sentiment")
def get_sentiment(slug: str):  # type: ignore[no-untyped-def]
    """Visible exactly when the poll's results are (always, without a poll)."""
    who = viewer()
    article = articles.get_article(slug, who)
    poll = article.poll
    if poll is not None and not poll_rules.results_visible(poll, who, False):
        voted = poll_rules.my_vote(poll, current_voter_key(who)) is not None
        if not poll_rules.results_visible(poll, who, voted):
            raise ResultsHidden()
    return jsonify(sentiment_json(insights.for_article(article)))
