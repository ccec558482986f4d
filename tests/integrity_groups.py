"""A brigaded poll for the integrity API and panel tests: honest votes from many
addresses and one group of votes from one address, all for "No", written as the
integrity pass would have left it (a suspect group holding those votes).

The group is made by hand, not by the pass, so these tests check the faces (the API,
the panel, the audit log) whatever thresholds the detection uses."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.integrity_data import ALL_NO, HONEST, START, add_votes
from webapp.extensions import db
from webapp.models import IntegrityGroup, IntegrityGroupVote, Vote

HONEST_VOTES = 100
BRIGADE_VOTES = 60


@dataclass
class Brigaded:
    article: Any
    group: IntegrityGroup
    other: IntegrityGroup  # a small honest group (an office), cleared by no one yet


def brigaded_poll(make_article: Any) -> Brigaded:
    article = make_article(poll=True)
    poll = article.poll
    add_votes(poll, HONEST_VOTES, HONEST)
    attack = add_votes(
        poll,
        BRIGADE_VOTES,
        ALL_NO,
        start=START + timedelta(hours=3),
        spread=timedelta(minutes=9),
        address="one-address",
        network="one-network",
    )
    office = add_votes(poll, 10, HONEST, address="office", network="office-net", offset=7)
    group = _group(poll, "address", "one-address", attack)
    group.reason = (
        "60 votes from one address in 9 minutes, 100 % 'No'; the rest of the poll is 31 % 'No'"
    )
    group.z_score = 9.1
    other = _group(poll, "network", "office-net", office)
    other.reason = "10 votes from one network; they answer like the rest of the poll"
    other.z_score = 0.3
    db.session.commit()
    return Brigaded(article, group, other)


def _group(poll: Any, kind: str, origin: str, votes: list[int]) -> IntegrityGroup:
    """A suspect group holding ``votes``, its answers counted from them."""
    by_option = Counter(
        str(option_id)
        for option_id in db.session.scalars(select(Vote.option_id).where(Vote.id.in_(votes)))
    )
    group = IntegrityGroup(
        poll_id=poll.id,
        kind=kind,
        origin=origin,
        status="suspect",
        reason="",
        signals=[kind],
        votes=len(votes),
        by_option=dict(by_option),
        first_at=START + timedelta(hours=3),
        last_at=START + timedelta(hours=3, minutes=9),
    )
    db.session.add(group)
    db.session.flush()
    db.session.execute(
        IntegrityGroupVote.__table__.insert(),
        [{"group_id": group.id, "vote_id": vote_id} for vote_id in votes],
    )
    return group
