"""Building blocks for the sentiment-results tests: fixed days, exact comments, votes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webapp.models import Comment
from webapp.services import polls
from webapp.services.markup import render_comment

D1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
D2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D3 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
D4 = datetime(2026, 3, 4, 0, 10, tzinfo=UTC)  # ten past midnight: a day early west of UTC


def add_comment(
    db: Any,
    article: Any,
    author: Any,
    score: float | None,
    label: str | None,
    when: datetime,
    *,
    status: str = "published",
    deleted: bool = False,
) -> Comment:
    """A comment with exactly the given score and label (no analyser involved)."""
    body = f"Comment scored {score}"
    comment = Comment(
        article_id=article.id,
        author_id=author.id,
        body=body,
        html=render_comment(body),
        status=status,
        sentiment=score,
        sentiment_label=label,
        created_at=when,
        deleted_at=when if deleted else None,
    )
    db.session.add(comment)
    db.session.flush()
    return comment


def vote(poll: Any, user: Any, option: Any, when: datetime) -> None:
    polls.cast_vote(poll, polls.Voter(polls.user_voter_key(user), user.id), option.id, moment=when)
