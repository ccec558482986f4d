"""GET /articles/{slug}/sides: what each side is saying (issue 20), and the same for
the article page.

The commenters' answers are a piece of the poll's results, so the whole answer is
there exactly when the results are visible to this reader (the polls service's rule,
as the results endpoint and the comments list ask it): else 403 ``results_hidden``.
An article without a poll has no sides: 404, as its /poll and /poll/results answer.

The article page's section reads the same service through :func:`page_sides`, a
template global (templates/public/_sides.html), so the page and the API show the same
comments; it lives here, beside the route, so that nothing else needs registering.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from webapp import caching
from webapp.api import bp
from webapp.api.common import viewer
from webapp.api.serializers import node_json
from webapp.errors import ResultsHidden
from webapp.http_cache import add_surrogate_keys, article_key
from webapp.models import Article, User
from webapp.services import comments as comment_rules
from webapp.services import polls as poll_rules
from webapp.services.comments import sides as side_rules
from webapp.voters import current_voter_key


def side_comment_json(shown: side_rules.SideComment) -> dict[str, Any]:
    """A comment as the comments list shows it, without replies, with its common-ground
    score and its author's answer (``author_vote``)."""
    data = node_json(shown.node)
    data.pop("replies", None)
    data["common_ground"] = shown.common_ground
    return data


def sides_json(found: side_rules.Sides) -> dict[str, Any]:
    return {
        "options": [
            {
                "id": side.option_id,
                "label": side.label,
                "comments": [side_comment_json(c) for c in side.comments],
            }
            for side in found.options
        ],
        "common_ground": [side_comment_json(c) for c in found.common_ground],
    }


@bp.get("/articles/<slug>/sides")
def get_sides(slug: str) -> ResponseReturnValue:
    who = viewer()
    # 404 as the poll's own endpoints: unknown, a draft this reader may not see, no poll.
    poll = poll_rules.cached_poll_for_article(slug, who)
    if not poll_rules.results_visible_to(poll, who, current_voter_key(who)):
        raise ResultsHidden()
    article = comment_rules.article_for_comments(slug, who)
    add_surrogate_keys(article_key(article.id))
    options = [(option.id, option.label) for option in poll.options]
    return jsonify(sides_json(side_rules.sides(article, options, who)))


@bp.app_template_global()
def page_sides(article: Article, poll: poll_rules.PollView | None) -> Markup:
    """The article page's "What each side is saying" for this reader
    (templates/public/_sides.html): empty unless the poll's results are visible to
    them (``poll``, the poll section's view, decided it). Signed-out readers share one
    rendered copy for a moment (caching.THREADS), as they share the comments section;
    its key holds the comment count, so a comment published or removed shows at once."""
    if poll is None or poll.results is None:
        return Markup("")
    who: User | None = viewer()
    options = [(option.id, option.label) for option in poll.poll.options]

    def build() -> Markup:
        sides = side_rules.sides(article, options, who)
        # Safe: rendered by the autoescaping template.
        return Markup(render_template("public/_sides.html", sides=sides))  # nosec B704

    if who is not None:
        return build()
    return caching.THREADS.get_or_build(("sides", article.id, article.comment_count), build)
