"""Issue 19's comment rules: a minimum length, no votes or reports on one's own words,
deletions that can be undone for a moment, keys that make a retried post store one
comment, and the thread page that holds any comment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.errors import InvalidInput, NotFound
from webapp.models import Comment, utcnow
from webapp.services import comments
from webapp.services.comments import OwnComment, UndoTooLate


@pytest.fixture
def article(make_article):
    return make_article()


def post(db, article, author, body="A thoughtful remark.", parent=None):
    comment = comments.submit(article, author, body, parent.id if parent else None)
    db.session.commit()
    return comment


def test_a_one_character_comment_is_refused_and_two_are_taken(app, db, article, reader):
    with pytest.raises(InvalidInput) as refused:
        comments.submit(article, reader, " x ")
    assert refused.value.fields == {"body": "at least 2 characters"}
    assert "at least 2 characters" in refused.value.message
    assert post(db, article, reader, "ok").status == "published"


def test_the_minimum_length_is_a_setting(make_app, make_article, make_user):
    app = make_app(COMMENT_MIN_LENGTH=10)
    with app.app_context():
        article, reader = make_article(), make_user()
        with pytest.raises(InvalidInput):
            comments.submit(article, reader, "too short")
        assert comments.submit(article, reader, "long enough").status == "published"


def test_readers_cannot_vote_on_or_report_their_own_comments(app, db, article, reader, make_user):
    mine = post(db, article, reader)
    with pytest.raises(OwnComment):
        comments.react(mine, reader, 1)
    with pytest.raises(OwnComment):
        comments.flag(mine, reader, "spam")
    db.session.rollback()
    [node] = comments.thread(article, reader).items
    assert (node.can_react, node.can_report, node.can_reply) == (False, False, True)
    other = make_user()
    assert comments.react(mine, other, 1) == 1
    assert comments.flag(mine, other, "spam") is True


def test_a_deletion_is_undone_within_the_window(app, db, article, reader):
    comment = post(db, article, reader, "Words I regret at once")
    until = comments.delete_undoable(comment, reader)
    db.session.commit()
    assert until - comment.deleted_at == timedelta(seconds=10)
    db.session.refresh(article)
    assert article.comment_count == 0
    # The text is gone from every page and answer at once, while undo is possible.
    stored = db.session.get(Comment, comment.id)
    assert stored.body == "" and stored.html == ""
    comments.undo(comment.id, reader)
    db.session.commit()
    stored = db.session.get(Comment, comment.id)
    assert stored.deleted_at is None and stored.body == "Words I regret at once"
    db.session.refresh(article)
    assert article.comment_count == 1 == comments.recount_article(article.id)


def test_only_the_deleter_undoes_and_only_in_time(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    moment = utcnow()
    comments.delete_undoable(comment, reader, moment)
    db.session.commit()
    with pytest.raises(NotFound):
        comments.undo(comment.id, make_user(), moment)
    with pytest.raises(UndoTooLate):
        comments.undo(comment.id, reader, moment + timedelta(seconds=11))


def test_finished_deletions_go_as_deletions_always_did(app, db, article, reader, make_user):
    alone = post(db, article, reader, "Nobody answered")
    answered = post(db, article, reader, "Somebody answered")
    post(db, article, make_user(), "The answer", parent=answered)
    moment = utcnow()
    comments.delete_undoable(alone, reader, moment)
    comments.delete_undoable(answered, reader, moment)
    db.session.commit()
    assert comments.finish_deletions(moment) == 0  # still undoable
    assert comments.finish_deletions(moment + timedelta(seconds=11)) == 2
    db.session.commit()
    assert db.session.get(Comment, alone.id) is None
    kept = db.session.get(Comment, answered.id)
    assert kept is not None and kept.deleted_at is not None and kept.body == ""
    with pytest.raises(NotFound):
        comments.undo(answered.id, reader)


def test_a_key_finds_the_comment_it_stored_for_its_author_only(app, db, article, reader, make_user):
    key = comments.clean_key("form-key-123456")
    assert key == "form-key-123456"
    assert comments.clean_key("short") is None and comments.clean_key("bad key!!") is None
    comment = comments.submit(article, reader, "Once only")
    assert comments.claim_key(comment, key) is True
    db.session.commit()
    assert comments.posted_with_key(reader.id, key).id == comment.id
    assert comments.posted_with_key(make_user().id, key) is None
    again = comments.submit(article, reader, "Once only")
    assert comments.claim_key(again, key) is False


def test_the_page_holding_a_comment_however_deep(app, db, article, reader, make_user):
    other = make_user()
    roots = [post(db, article, reader if i % 2 else other, f"Comment {i}") for i in range(7)]
    reply = post(db, article, other, "A reply", parent=roots[5])
    deeper = post(db, article, reader, "Deeper", parent=reply)

    def page_of(comment, sort="oldest", viewer=reader):
        after = comments.page_holding(article, viewer, comment, sort, 3)
        page = comments.thread(article, viewer, sort=sort, limit=3, after=after)
        shown = set()
        for node in page.items:
            shown |= {node.comment.id, *(r.comment.id for r in node.replies)}
            for r in node.replies:
                shown |= {d.comment.id for d in r.replies}
        return after, shown

    assert page_of(roots[1])[0] is None
    for comment in (roots[5], reply, deeper):
        after, shown = page_of(comment)
        assert after == (0, roots[2].id) and comment.id in shown
    assert comment.id in page_of(deeper, "newest")[1]
    comments.react(roots[6], reader, 1)
    db.session.commit()
    assert roots[6].id in page_of(roots[6], "top", None)[1]


def test_a_moderators_undone_deletion_is_in_the_log_beside_the_deletion(
    app, db, article, reader, make_user
):
    from sqlalchemy import select

    from webapp.models import ModerationAction

    moderator = make_user(role="moderator")
    comment = post(db, article, reader)
    comments.delete_undoable(comment, moderator)
    db.session.commit()
    comments.undo(comment.id, moderator)
    db.session.commit()
    logged = db.session.scalars(
        select(ModerationAction.action)
        .where(ModerationAction.comment_id == comment.id)
        .order_by(ModerationAction.id)
    ).all()
    assert logged == ["delete", "undelete"]
    # A reader undoing their own deletion is nobody's moderation: nothing logged.
    own = post(db, article, reader, "My own second thought.")
    comments.delete_undoable(own, reader)
    comments.undo(own.id, reader)
    db.session.commit()
    assert not db.session.scalars(
        select(ModerationAction).where(ModerationAction.comment_id == own.id)
    ).all()


def test_keys_are_forgotten_after_a_day_and_the_comments_stay(app, db, article, reader):
    from webapp.services.comments.undo import forget_old_post_keys

    moment = utcnow()
    kept_a_day = post(db, article, reader, "Posted with a key yesterday.")
    fresh = post(db, article, reader, "Posted with a key just now.")
    yesterday = moment - timedelta(days=1, seconds=1)
    assert comments.claim_key(kept_a_day, "key-from-yesterday", yesterday)
    assert comments.claim_key(fresh, "key-from-just-now", moment)
    db.session.commit()
    assert forget_old_post_keys(moment) == 1
    assert comments.posted_with_key(reader.id, "key-from-yesterday") is None
    assert comments.posted_with_key(reader.id, "key-from-just-now").id == fresh.id
    assert db.session.get(Comment, kept_a_day.id) is not None
