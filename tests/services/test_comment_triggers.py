"""The database keeps each article's comment count and each author's last rejection
itself (comment_triggers): whatever writes the comment rows, through the app's rules
or with plain SQL outside them, the counts equal a recount, and an author rejected
lately is never taken for one who was not."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from webapp.models import Article, Comment, User, utcnow
from webapp.services import comments, moderation
from webapp.services.moderation import actions as moderation_actions
from webapp.services.moderation import update_moderation_settings


def _post(db, article, author, body="A fair point.", parent=None):
    comment = comments.submit(article, author, body, parent.id if parent else None)
    db.session.commit()
    return comment


def _counts(db) -> dict[int, int]:
    """Every article's stored count, read afresh."""
    db.session.expire_all()
    return dict(db.session.execute(sa.select(Article.id, Article.comment_count)).tuples().all())


def _recounts(db) -> dict[int, int]:
    ids = db.session.scalars(sa.select(Article.id)).all()
    return {article_id: comments.recount_article(article_id) for article_id in ids}


def _assert_counts_equal_a_recount(db) -> dict[int, int]:
    stored = _counts(db)
    assert stored == _recounts(db)
    return stored


def _insert(db, article, author, **values) -> int:
    row = {
        "article_id": article.id,
        "author_id": author.id,
        "body": "Written outside the app",
        "html": "<p>Written outside the app</p>",
        "status": "published",
        "created_at": utcnow(),
        "reasons_held": [],
        **values,
    }
    return db.session.execute(Comment.__table__.insert().values(**row)).inserted_primary_key[0]


def _update(db, comment_id: int, **values) -> None:
    db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _last_rejected_at(db, user):
    db.session.expire_all()
    return db.session.scalar(sa.select(User.last_rejected_at).where(User.id == user.id))


# --- comment counts ---------------------------------------------------------------------


def test_posts_edits_deletes_and_decisions_keep_the_count_equal_to_a_recount(
    app, db, make_article, reader, moderator, make_user
):
    article = make_article()
    other = make_user()
    first = _post(db, article, reader, "First")
    reply = _post(db, article, other, "A reply", parent=first)
    third = _post(db, article, other, "Third")
    assert _assert_counts_equal_a_recount(db)[article.id] == 3

    # Rejected, then approved again.
    moderation_actions.decide(third, moderator, "reject", "Off topic")
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 2
    moderation_actions.decide(third, moderator, "approve")
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 3

    # Featuring changes nothing counted.
    moderation_actions.decide(third, moderator, "feature")
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 3

    # An edit that is held takes the comment out of the count.
    moderation.add_term(moderator, "crypto", "suspect")
    db.session.commit()
    comments.edit(third, other, "Buy crypto")
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 2

    # Deleted with a reply hanging on it: a placeholder, not counted.
    comments.delete(first, reader)
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 1
    # The last reply goes, and its placeholder parent with it.
    comments.delete(reply, other)
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 0


def test_held_comments_count_once_approved(app, db, make_article, reader, moderator):
    article = make_article(comments="premoderated")
    held = _post(db, article, reader)
    assert held.status == "pending"
    assert _assert_counts_equal_a_recount(db)[article.id] == 0
    moderation_actions.decide_many([held.id], moderator, "approve")
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 1


def test_reported_comments_hidden_by_the_setting_leave_the_count(
    app, db, make_article, reader, make_established_user, moderator
):
    update_moderation_settings(moderator, {"hide_reported": True, "report_threshold": 2})
    db.session.commit()
    article = make_article()
    comment = _post(db, article, reader)
    for _ in range(2):
        comments.flag(comment, make_established_user(), "abuse")
        db.session.commit()
    assert comment.status == "pending"
    assert _assert_counts_equal_a_recount(db)[article.id] == 0


def test_comments_written_with_plain_sql_are_counted(app, db, make_article, reader):
    article, elsewhere = make_article(), make_article()
    shown = _insert(db, article, reader)
    held = _insert(db, article, reader, status="pending")
    _insert(db, article, reader, deleted_at=utcnow())
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 1

    _update(db, held, status="published")
    _update(db, shown, body="Edited outside the app")  # not a counted column
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 2

    _update(db, shown, article_id=elsewhere.id)
    db.session.commit()
    assert _assert_counts_equal_a_recount(db) == {article.id: 1, elsewhere.id: 1}

    _update(db, held, deleted_at=utcnow())
    db.session.execute(sa.delete(Comment).where(Comment.id == shown))
    db.session.commit()
    assert _assert_counts_equal_a_recount(db) == {article.id: 0, elsewhere.id: 0}


def test_a_pending_comment_moved_between_articles_counts_nowhere(app, db, make_article, reader):
    article, elsewhere = make_article(), make_article()
    held = _insert(db, article, reader, status="pending")
    db.session.commit()
    _update(db, held, article_id=elsewhere.id)
    db.session.commit()
    assert _assert_counts_equal_a_recount(db) == {article.id: 0, elsewhere.id: 0}
    # Moved and published in one statement: counted where it went.
    _update(db, held, article_id=article.id, status="published")
    db.session.commit()
    assert _assert_counts_equal_a_recount(db) == {article.id: 1, elsewhere.id: 0}


def test_deleting_a_user_takes_their_comments_and_replies_out_of_the_counts(
    app, db, make_article, make_user
):
    article = make_article()
    leaving, staying = make_user(), make_user()
    theirs = _post(db, article, leaving, "Going soon")
    _post(db, article, staying, "A reply to a comment that goes", parent=theirs)
    _post(db, article, staying, "Stays")
    assert _assert_counts_equal_a_recount(db)[article.id] == 3
    db.session.execute(sa.delete(User).where(User.id == leaving.id))
    db.session.commit()
    assert _assert_counts_equal_a_recount(db)[article.id] == 1


def test_deleting_an_article_with_comments_leaves_the_other_counts_alone(
    app, db, make_article, reader
):
    article, kept = make_article(), make_article()
    top = _post(db, article, reader)
    _post(db, article, reader, parent=top)
    _post(db, kept, reader)
    db.session.execute(sa.delete(Article).where(Article.id == article.id))
    db.session.commit()
    assert _assert_counts_equal_a_recount(db) == {kept.id: 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1


def test_a_comment_leaves_the_article_s_updated_time_alone(app, db, make_article, reader):
    article = make_article()
    before = db.session.scalar(sa.select(Article.updated_at).where(Article.id == article.id))
    _post(db, article, reader)
    _insert(db, article, reader)
    db.session.commit()
    after = db.session.scalar(sa.select(Article.updated_at).where(Article.id == article.id))
    assert after == before


def test_posting_writes_the_comment_with_one_statement(app, db, make_article, reader):
    """The count moves inside the INSERT: the app sends nothing else to store a
    top-level comment."""
    article = make_article()
    comment = comments.prepare(article, reader, "Counted by the database")
    db.session.commit()
    seen: list[str] = []

    def record(
        conn: object,
        cursor: object,
        statement: str,
        parameters: object,
        context: object,
        executemany: bool,
    ) -> None:
        seen.append(statement.split()[0].upper())

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        comments.store(comment)
        db.session.commit()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert [word for word in seen if word not in ("BEGIN", "SELECT")] == ["INSERT"]
    assert _assert_counts_equal_a_recount(db)[article.id] == 1


# --- the author's last rejection ---------------------------------------------------------


def test_a_rejection_sets_the_author_s_last_rejection_and_an_approval_keeps_it(
    app, db, make_article, reader, moderator
):
    article = make_article()
    assert _last_rejected_at(db, reader) is None
    comment = _post(db, article, reader)
    moment = utcnow() - timedelta(minutes=5)
    moderation_actions.decide(comment, moderator, "reject", moment=moment)
    db.session.commit()
    assert _last_rejected_at(db, reader) == moment
    moderation_actions.decide(comment, moderator, "approve")
    db.session.commit()
    assert _last_rejected_at(db, reader) == moment


def test_the_last_rejection_only_moves_forward(app, db, make_article, reader):
    article = make_article()
    later = utcnow() - timedelta(days=1)
    earlier = later - timedelta(days=10)
    _insert(db, article, reader, status="rejected", moderated_at=later)
    _insert(db, article, reader, status="rejected", moderated_at=earlier)
    # Rejected without a moderation time: nothing to count within a window.
    _insert(db, article, reader, status="rejected")
    db.session.commit()
    assert _last_rejected_at(db, reader) == later


def test_authors_rejected_with_plain_sql_are_held_like_any_other(
    app, db, make_article, reader, make_user
):
    article = make_article()
    ids = [_post(db, article, reader, f"Take {n}").id for n in range(3)]
    for comment_id in ids:
        _update(db, comment_id, status="rejected", moderated_at=utcnow())
    db.session.commit()
    db.session.expire_all()
    held = _post(db, article, reader, "A perfectly nice comment")
    assert held.reasons_held == ["author rejected 3 times in 30 days"]
    # Another reader, never rejected, is not held.
    assert _post(db, article, make_user()).status == "published"


def test_a_rejection_in_the_same_transaction_is_seen(app, db, make_article, reader, moderator):
    """The author's copy in the session is refreshed after a rejection, so a check
    later in the same transaction does not miss it."""
    update_moderation_settings(moderator, {"recent_rejections_limit": 1})
    article = make_article()
    db.session.commit()
    assert reader.last_rejected_at is None  # loaded before the rejection
    comment = comments.submit(article, reader, "First")
    moderation_actions.decide(comment, moderator, "reject")
    again = comments.submit(article, reader, "Second")
    assert again.reasons_held == ["author rejected 1 times in 30 days"]
    db.session.commit()


def test_only_authors_rejected_within_the_window_are_counted(
    app, db, make_article, reader, moderator
):
    """Rejections older than the window never hold; the count query runs only for an
    author whose last rejection falls inside it."""
    article = make_article()
    old = utcnow() - timedelta(days=40)
    for _ in range(3):
        _insert(db, article, reader, status="rejected", moderated_at=old)
    db.session.commit()
    db.session.expire_all()
    seen: list[str] = []

    def record(
        conn: object,
        cursor: object,
        statement: str,
        parameters: object,
        context: object,
        executemany: bool,
    ) -> None:
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert _post(db, article, reader).status == "published"
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert not [s for s in seen if "count(" in s.lower()]
    # Rejections inside a wider window do hold.
    update_moderation_settings(moderator, {"rejection_window_days": 60})
    db.session.commit()
    db.session.expire_all()
    held = _post(db, article, reader, "Again")
    assert held.reasons_held == ["author rejected 3 times in 60 days"]
