"""Readers voting, moving their votes and commenting while a rescore writes its
batches, all at once on PostgreSQL: no write deadlocks on the tone counters (each
takes them in one order) and the counters still equal the rows afterwards."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from tests.insight_data import D1, add_comment, vote
from webapp.extensions import db as _db
from webapp.models import Comment, Vote, utcnow
from webapp.services.insights import counters
from webapp.services.insights import sentiment as scoring

ROUNDS = 25


def _together(app, works) -> list[BaseException]:
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work()
            except BaseException as exc:  # reported by the test
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgres_only
def test_votes_comments_and_a_rescore_at_once_neither_deadlock_nor_drift(
    app, db, make_user, make_article
):
    article = make_article(poll=True)
    options = article.poll.options
    readers = [make_user() for _ in range(4)]
    for n, reader in enumerate(readers):
        vote(article.poll, reader, options[n % 3], D1)
        for k in range(3):
            add_comment(db, article, reader, 0.1 * k, "neutral", D1)
    db.session.commit()
    option_ids = [option.id for option in options]

    def mover(reader: Any, order: list[int]) -> Any:
        def work() -> None:
            for n in range(ROUNDS):
                _db.session.execute(
                    sa.update(Vote)
                    .where(Vote.user_id == reader.id)
                    .values(option_id=order[n % 3], updated_at=utcnow())
                )
                _db.session.commit()

        return work

    def commenter(reader: Any) -> Any:
        def work() -> None:
            for n in range(ROUNDS):
                add_comment(_db, article, reader, -0.5 + n / ROUNDS, "negative", utcnow())
                _db.session.commit()

        return work

    def rescorer() -> None:
        for n in range(ROUNDS):
            rows = _db.session.execute(
                sa.select(
                    Comment.id,
                    Comment.body,
                    Comment.sentiment,
                    Comment.sentiment_label,
                    Comment.article_id,
                    Comment.author_id,
                )
                .where(Comment.article_id == article.id)
                .order_by(Comment.id.desc())
            ).all()
            _db.session.commit()
            score = (0.5, "positive") if n % 2 else (-0.5, "negative")
            scoring._write(rows, [score] * len(rows))

    errors = _together(
        app,
        [
            mover(readers[0], option_ids),
            mover(readers[1], option_ids[::-1]),
            commenter(readers[0]),
            commenter(readers[1]),
            commenter(readers[2]),
            rescorer,
        ],
    )
    assert not errors, errors
    db.session.expire_all()
    assert counters.recount(fix=False) == []
