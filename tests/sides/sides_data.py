"""Threads for the common-ground tests: commenters who answered the poll, and the
per-answer reaction rows the triggers keep, written directly where a test is about
the reading side (``set_reactions``), so it does not depend on the formula."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update

from webapp.extensions import db
from webapp.models import Article, Comment, CommentAnswerReaction, User
from webapp.services import comments, polls
from webapp.services.polls import Voter


def vote(article: Article, user: User, option_index: int) -> int:
    """``user`` votes for the poll's option at ``option_index``; its id."""
    poll = article.poll
    assert poll is not None
    option_id = poll.options[option_index].id
    polls.cast_vote(poll, Voter(polls.user_voter_key(user), user.id), option_id)
    db.session.commit()
    return option_id


@dataclass
class Thread:
    article: Article
    yes: int
    no: int
    #: Commenters who answered Yes and No, and their comments, by name.
    authors: dict[str, User]
    said: dict[str, Comment]


def build_thread(
    make_article: Callable[..., Any], make_user: Callable[..., Any], tag: str = "", **poll: Any
) -> Thread:
    """An article whose poll's Yes and No readers each wrote comments: yes1..yes4 by
    Yes voters, no1..no4 by No voters, and one by a reader who did not vote. ``tag``
    (letters: names are compared by their look) tells two threads' readers apart."""
    article = make_article(poll={"results_visibility": "always", **poll})
    authors: dict[str, User] = {}
    said: dict[str, Comment] = {}
    for side, index in (("yes", 0), ("no", 1)):
        for n in range(1, 5):
            name = f"{side}{n}"
            user = make_user(name=f"Reader {name}{tag}")
            vote(article, user, index)
            authors[name] = user
            said[name] = comments.submit(article, user, f"Comment {name}: an argument.")
    silent = make_user(name=f"Reader silent{tag}")
    said["silent"] = comments.submit(article, silent, "Comment silent: no vote cast.")
    db.session.commit()
    poll_options = article.poll.options
    return Thread(article, poll_options[0].id, poll_options[1].id, authors, said)


def set_reactions(
    article: Article,
    rows: list[tuple[Comment, int, int, int, bool]],
    common_ground: dict[Comment, float] | None = None,
) -> None:
    """Replace the article's per-answer rows by ``rows`` ((comment, option id, ups,
    downs, author's side)), approval (ups + 1) / (ups + downs + 2); then set the given
    comments' common-ground scores (after the rows, in case a trigger derives them)."""
    db.session.execute(
        delete(CommentAnswerReaction).where(CommentAnswerReaction.article_id == article.id)
    )
    for comment, option_id, ups, downs, own in rows:
        db.session.add(
            CommentAnswerReaction(
                comment_id=comment.id,
                option_id=option_id,
                article_id=article.id,
                ups=ups,
                downs=downs,
                approval=(ups + 1) / (ups + downs + 2),
                author_side=own,
            )
        )
    db.session.flush()
    db.session.execute(
        update(Comment).where(Comment.article_id == article.id).values(common_ground=0.0)
    )
    for comment, score in (common_ground or {}).items():
        db.session.execute(
            update(Comment).where(Comment.id == comment.id).values(common_ground=score)
        )
    db.session.commit()
