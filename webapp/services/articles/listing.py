"""A page of published articles as the API lists them: each article with its
neighbours and the reader's vote in its poll, read for the whole page at once.

A list used to ask for each article's neighbours and the reader's vote one article at
a time; here each is one query for the page, so a page of 50 costs what a page of 1
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Article, Poll, Vote
from webapp.services.articles.neighbours import Neighbours, neighbours_of
from webapp.services.articles.reading import PublishedKey, list_published


@dataclass(frozen=True)
class ListedArticle:
    """An article of a list, with what its JSON shows besides the article itself."""

    article: Article
    neighbours: Neighbours
    #: The option the reader chose in the article's poll; None without a poll or a vote.
    my_vote: int | None


def reader_votes(polls: Sequence[Poll], voter_key: str | None) -> dict[int, int]:
    """The option the voter with ``voter_key`` chose in each of ``polls``, by poll id
    (polls without their vote are left out), in one query: the unique index on
    (poll_id, voter_key) answers each poll with one probe."""
    if voter_key is None or not polls:
        return {}
    found = db.session.execute(
        select(Vote.poll_id, Vote.option_id).where(
            Vote.voter_key == voter_key, Vote.poll_id.in_([poll.id for poll in polls])
        )
    ).tuples()
    return {poll_id: option_id for poll_id, option_id in found}


def published_for_reader(
    limit: int,
    after: PublishedKey | None,
    label_slug: str | None,
    voter_key: str | None,
) -> tuple[list[ListedArticle], PublishedKey | None]:
    """``list_published``'s page, each article with its neighbours and the reader's
    vote: a constant number of queries whatever ``limit`` is."""
    rows, next_key = list_published(limit, after, label_slug)
    links = neighbours_of(rows)
    votes = reader_votes([a.poll for a in rows if a.poll is not None], voter_key)
    return [
        ListedArticle(
            article=article,
            neighbours=links[article.id],
            my_vote=votes.get(article.poll.id) if article.poll is not None else None,
        )
        for article in rows
    ], next_key
