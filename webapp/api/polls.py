"""/articles/{slug}/poll: the poll, its results, and voting.

Each endpoint reads the article's poll, options and tallies with one query
(poll_rules.poll_for_article), which answers 404 as the article would; results and a
vote's first look take it from the short-lived results cache instead. Who may vote
is the polls service's rule: the vote gets the request's facts (voters.visitor).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from webapp.api import bp
from webapp.api.common import json_object, viewer
from webapp.api.serializers import poll_json, results_json
from webapp.errors import NotFound, ResultsHidden
from webapp.extensions import client_address, db
from webapp.http_cache import add_article_key_for_slug
from webapp.ratelimits import limit_action, limit_anonymous_poll_votes
from webapp.services import polls as poll_rules
from webapp.transactions import commit, expect_lone_write
from webapp.voters import anonymous_id, current_voter_key, set_cookie_if_minted, visitor


@bp.get("/articles/<slug>/poll")
def get_poll(slug: str) -> ResponseReturnValue:
    who = viewer()
    poll = poll_rules.poll_for_article(slug, who)
    add_article_key_for_slug(slug)
    return jsonify(poll_json(poll, poll_rules.my_vote(poll, current_voter_key(who))))


@bp.get("/articles/<slug>/poll/results")
def get_results(slug: str) -> ResponseReturnValue:
    who = viewer()
    poll = poll_rules.cached_poll_for_article(slug, who)
    if not poll_rules.results_visible_to(poll, who, current_voter_key(who)):
        raise ResultsHidden()
    add_article_key_for_slug(slug)
    return jsonify(results_json(poll_rules.results(poll)))


@bp.post("/articles/<slug>/poll/votes")
def cast_vote(slug: str) -> ResponseReturnValue:
    limit_action("vote", client=client_address())  # one bucket with the page's vote form
    who = viewer()
    # The cached poll is enough to start: poll_rules.vote checks it again as it writes.
    poll = poll_rules.cached_poll_for_article(slug, who)
    if who is None:
        limit_anonymous_poll_votes(poll.id, client_address())  # both doors count, per poll
    option_id: int = json_object()["option_id"]  # a whole number: the Vote schema says so
    expect_lone_write()  # a first vote is one statement, and nothing is written after it
    poll, outcome = poll_rules.vote(slug, poll, visitor(who, poll.id), option_id)
    commit()
    counted = poll_rules.vote_committed(slug, poll, outcome)
    status = 201 if outcome.created else 200
    body: dict[str, Any]
    if poll_rules.results_visible(counted, who, True):
        body = results_json(poll_rules.results(counted))
        body["my_vote"] = outcome.option_id
    else:
        body = {"my_vote": outcome.option_id}
    response = jsonify(body)
    response.status_code = status
    return set_cookie_if_minted(response)


@bp.delete("/articles/<slug>/poll/votes/mine")
def withdraw_vote(slug: str) -> ResponseReturnValue:
    limit_action("vote", client=client_address())  # withdrawing is voting (ACTIONS)
    who = viewer()
    poll = poll_rules.poll_for_article(slug, who)
    if not poll_rules.withdraw(poll, who, anonymous_id()):
        raise NotFound("You have no vote in this poll.")
    db.session.commit()
    poll_rules.forget_cached(slug)
    return "", 204
