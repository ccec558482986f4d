"""The contract's Sentiment answer: the poll, the comments' tone, and the two together."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from webapp.api import bp
from webapp.api.common import viewer
from webapp.api.serializers import sentiment_json
from webapp.errors import ResultsHidden
from webapp.services import articles, insights
from webapp.services import polls as poll_rules
from webapp.voters import current_voter_key


@bp.get("/articles/<slug>/sentiment")
def get_sentiment(slug: str) -> ResponseReturnValue:
    """Visible exactly when the poll's results are (always, without a poll)."""
    who = viewer()
    article = articles.get_article(slug, who)
    poll = article.poll
    if poll is not None and not poll_rules.results_visible_to(poll, who, current_voter_key(who)):
        raise ResultsHidden()
    return jsonify(sentiment_json(insights.for_article(article)))
