"""Polls: who may vote, the votes themselves, their tallies and results, and who may
see them.

- ``state``: the poll as one request reads it (one query, or the results cache),
  and the reader's own vote;
- ``results``: the pure maths (shares, Wilson intervals) and who may see results;
- ``eligibility``: who may vote, the one rule (``refusals``), and who a voter is;
- ``voting``: casting, moving and withdrawing votes, with the first-vote SQL;
- ``tallies``: stored tallies read back, recounted, over time and exported;
- ``view``: the poll as one reader sees it, for pages and the API.

Callers use the names below: ``from webapp.services import polls; polls.vote(...)``.
"""

from __future__ import annotations

from webapp.services.polls.eligibility import (
    AnonymousVotingNotAllowed,
    PollClosed,
    PollNotPublished,
    Refusal,
    Visitor,
    Voter,
    anonymous_voter_key,
    ensure_may_vote,
    refusals,
    user_voter_key,
    voter_for,
    voter_key,
)
from webapp.services.polls.results import (
    Z_95,
    OptionResult,
    PollResults,
    results,
    results_visible,
    wilson_interval,
)
from webapp.services.polls.state import (
    AnyPoll,
    ArticleWithoutPoll,
    OptionState,
    PollState,
    cached_poll_for_article,
    forget_cached,
    is_closed,
    my_vote,
    poll_for_article,
)
from webapp.services.polls.tallies import (
    Drift,
    TimelineDay,
    export_rows,
    lock_for_set_aside,
    recount,
    timeline,
)
from webapp.services.polls.view import (
    PollView,
    answers_visible_to,
    results_visible_to,
    view_for,
    view_of,
)
from webapp.services.polls.voting import (
    VoteOutcome,
    adopt_anonymous_vote,
    cast_vote,
    vote,
    vote_committed,
    withdraw,
    withdraw_vote,
)

__all__ = [
    "Z_95",
    "AnonymousVotingNotAllowed",
    "AnyPoll",
    "ArticleWithoutPoll",
    "Drift",
    "OptionResult",
    "OptionState",
    "PollClosed",
    "PollNotPublished",
    "PollResults",
    "PollState",
    "PollView",
    "Refusal",
    "TimelineDay",
    "Visitor",
    "VoteOutcome",
    "Voter",
    "adopt_anonymous_vote",
    "anonymous_voter_key",
    "answers_visible_to",
    "cached_poll_for_article",
    "cast_vote",
    "ensure_may_vote",
    "export_rows",
    "forget_cached",
    "is_closed",
    "my_vote",
    "poll_for_article",
    "lock_for_set_aside",
    "recount",
    "refusals",
    "results",
    "results_visible",
    "results_visible_to",
    "timeline",
    "user_voter_key",
    "view_for",
    "view_of",
    "vote",
    "vote_committed",
    "voter_for",
    "voter_key",
    "wilson_interval",
    "withdraw",
    "withdraw_vote",
]
