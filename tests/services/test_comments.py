from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.errors import Forbidden, InvalidInput, NotFound
from webapp.models import Comment, utcnow
from webapp.services import comments, polls
from webapp.services.comments import CommentsClosed, EditWindowOver


@pytest.fixture
def article(make_article):
    return make_article(poll=True)


@pytest.fixture
def reader(make_user):
    return make_user(name="Reader One")


def post(db, article, author, body="A thoughtful remark.", parent=None, **kwargs):
    comment = comments.submit(article, author, body, parent.id if parent else None, **kwargs)
    db.session.commit()
    return comment


def test_a_comment_is_published_rendered_and_counted(app, db, article, reader):
    comment = post(db, article, reader, "I *really* hope so. [source](https://example.org)")
    assert comment.status == "published"
    assert "<em>really</em>" in comment.html
    assert 'rel="nofollow ugc noopener"' in comment.html
    assert comment.sentiment is not None and comment.sentiment_label in (
        "positive",
        "neutral",
        "negative",
    )
    assert 0.0 <= comment.toxicity <= 1.0
    db.session.refresh(article)
    assert article.comment_count == 1 == comments.recount_article(article.id)


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_empty_or_too_long_comments_are_refused(app, db, article, reader, body):
    with pytest.raises(InvalidInput):
        comments.submit(article, reader, body)


def test_exactly_5000_characters_is_fine(app, db, article, reader):
    assert post(db, article, reader, "y" * 5000).status == "published"


def test_threads_nest_three_levels_and_deeper_replies_name_whom_they_answer(
    app, db, article, reader, make_user
):
    other = make_user(name="Other Reader")
    top = post(db, article, reader, "Top")
    second = post(db, article, other, "Second", parent=top)
    third = post(db, article, reader, "Third", parent=second)
    fourth = post(db, article, other, "Fourth", parent=third)
    assert (top.depth, second.depth, third.depth) == (0, 1, 2)
    assert fourth.depth == 2 and fourth.parent_id == second.id
    assert fourth.in_reply_to_id == third.id
    page = comments.thread(article, None)
    [node] = page.items
    assert node.comment.id == top.id
    [level2] = node.replies
    assert [r.comment.id for r in level2.replies] == [third.id, fourth.id]
    assert level2.replies[1].in_reply_to == (third.id, "Reader One")


def test_a_reply_must_be_to_a_comment_on_the_same_article(app, db, article, reader, make_article):
    elsewhere = post(db, make_article(), reader, "Elsewhere")
    with pytest.raises(InvalidInput) as error:
        comments.submit(article, reader, "Reply", elsewhere.id)
    assert "parent_id" in error.value.fields
    with pytest.raises(InvalidInput):
        comments.submit(article, reader, "Reply", 987654)


def test_authors_edit_within_fifteen_minutes_and_it_shows(app, db, article, reader):
    comment = post(db, article, reader, "Frist")
    comments.edit(comment, reader, "First", moment=comment.created_at + timedelta(minutes=14))
    db.session.commit()
    assert comment.body == "First" and comment.edited_at is not None
    with pytest.raises(EditWindowOver):
        comments.edit(
            comment, reader, "Too late", moment=comment.created_at + timedelta(minutes=16)
        )


def test_nobody_edits_someone_elses_comment(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    for role in ("reader", "moderator", "admin"):
        with pytest.raises(Forbidden):
            comments.edit(comment, make_user(role=role), "Hijacked")


def test_deleting_a_comment_without_replies_removes_it(app, db, article, reader):
    comment = post(db, article, reader)
    comments.delete(comment, reader)
    db.session.commit()
    assert db.session.get(Comment, comment.id) is None
    db.session.refresh(article)
    assert article.comment_count == 0


def test_deleting_a_comment_with_replies_leaves_a_placeholder(app, db, article, reader, make_user):
    other = make_user()
    parent = post(db, article, reader, "Secret words")
    reply = post(db, article, other, "A reply", parent=parent)
    comments.delete(parent, reader)
    db.session.commit()
    kept = db.session.get(Comment, parent.id)
    assert kept.deleted_at is not None and kept.body == "" and kept.html == ""
    db.session.refresh(article)
    assert article.comment_count == 1
    [node] = comments.thread(article, None).items
    assert node.comment.deleted_at is not None
    assert [r.comment.id for r in node.replies] == [reply.id]
    # When the last reply goes, the placeholder has nothing to hold and goes too.
    comments.delete(reply, other)
    db.session.commit()
    assert db.session.get(Comment, parent.id) is None


def test_others_cannot_delete_but_moderators_can_and_it_is_logged(
    app, db, article, reader, make_user
):
    from webapp.models import ModerationAction

    comment = post(db, article, reader)
    with pytest.raises(Forbidden):
        comments.delete(comment, make_user())
    moderator = make_user(role="moderator")
    comments.delete(comment, moderator)
    db.session.commit()
    [entry] = db.session.scalars(db.select(ModerationAction)).all()
    assert (entry.action, entry.actor_id, entry.target_user_id) == (
        "delete",
        moderator.id,
        reader.id,
    )


def test_sorting_and_cursor_pagination(app, db, article, make_user):
    authors = [make_user() for _ in range(3)]
    posted = [post(db, article, authors[i % 3], f"Comment {i}") for i in range(5)]
    voter = [make_user() for _ in range(3)]
    for user in voter:
        comments.react(posted[3], user, 1)
    comments.react(posted[1], voter[0], 1)
    comments.react(posted[0], voter[0], -1)
    db.session.commit()

    def ids(page):
        return [n.comment.id for n in page.items]

    oldest = comments.thread(article, None, sort="oldest", limit=2)
    assert ids(oldest) == [posted[0].id, posted[1].id]
    following = comments.thread(article, None, sort="oldest", limit=2, after=oldest.next_cursor)
    assert ids(following) == [posted[2].id, posted[3].id]
    last = comments.thread(article, None, sort="oldest", limit=2, after=following.next_cursor)
    assert ids(last) == [posted[4].id] and last.next_cursor is None
    assert ids(comments.thread(article, None, sort="newest", limit=3)) == [
        posted[4].id,
        posted[3].id,
        posted[2].id,
    ]
    top = comments.thread(article, None, sort="top", limit=2)
    assert ids(top) == [posted[3].id, posted[1].id]
    rest = comments.thread(article, None, sort="top", limit=10, after=top.next_cursor)
    assert ids(rest) == [posted[2].id, posted[4].id, posted[0].id]


def test_reactions_are_one_per_reader_and_make_the_score(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    fan, critic = make_user(), make_user()
    assert comments.react(comment, fan, 1) == 1
    assert comments.react(comment, fan, 1) == 1
    assert comments.react(comment, critic, -1) == 0
    assert comments.react(comment, fan, -1) == -2
    assert comments.react(comment, fan, 0) == -1
    with pytest.raises(InvalidInput):
        comments.react(comment, fan, 2)
    page = comments.thread(article, critic)
    assert page.items[0].my_reaction == -1


def test_reports_count_once_per_reader(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    reporter = make_user()
    assert comments.flag(comment, reporter, "spam", "buy pills") is True
    assert comments.flag(comment, reporter, "abuse") is False
    assert comments.flag(comment, make_user(), "off_topic") is True
    db.session.commit()
    db.session.refresh(comment)
    assert comment.flag_count == 2
    with pytest.raises(InvalidInput):
        comments.flag(comment, reporter, "because")


def test_one_report_puts_a_comment_in_the_reported_queue(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    comments.flag(comment, make_user(), "abuse")
    db.session.commit()
    assert comment.reported_at is not None
    assert comment.status == "published"  # hiding is off unless the site asks


def test_the_authors_poll_answer_shows_next_to_their_comment(app, db, article, reader, make_user):
    quiet = make_user()
    polls.cast_vote(
        article.poll,
        polls.Voter(polls.user_voter_key(reader), reader.id),
        article.poll.options[2].id,
    )
    post(db, article, reader, "I voted")
    post(db, article, quiet, "I did not")
    nodes = comments.thread(article, None).items
    assert [n.author_vote for n in nodes] == ["Too early to tell", None]


def test_premoderated_articles_hold_every_comment(app, db, make_article, reader, make_user):
    article = make_article(comments="premoderated")
    comment = post(db, article, reader, "Please approve me")
    assert comment.status == "pending"
    assert "article is premoderated" in comment.reasons_held
    db.session.refresh(article)
    assert article.comment_count == 0
    assert comments.thread(article, None).items == []
    assert [n.comment.id for n in comments.thread(article, reader).items] == [comment.id]
    assert comments.thread(article, make_user()).items == []
    assert [n.comment.id for n in comments.thread(article, make_user(role="moderator")).items] == [
        comment.id
    ]


def test_closed_articles_refuse_new_comments_but_keep_old_ones(app, db, make_article, reader):
    from webapp.services import articles

    article = make_article()
    old = post(db, article, reader, "Before closing")
    articles.update_article(article, articles.ArticleChanges(comments="closed"))
    db.session.commit()
    with pytest.raises(CommentsClosed):
        comments.submit(article, reader, "After closing")
    assert [n.comment.id for n in comments.thread(article, None).items] == [old.id]


def test_banned_readers_cannot_post_react_or_report(app, db, article, reader, make_user):
    from webapp.errors import Banned

    comment = post(db, article, make_user())
    reader.banned_at = utcnow()
    db.session.commit()
    with pytest.raises(Banned):
        comments.submit(article, reader, "Let me in")
    with pytest.raises(Banned):
        comments.react(comment, reader, 1)
    with pytest.raises(Banned):
        comments.flag(comment, reader, "spam")


def test_comments_on_unpublished_articles_are_not_found(app, db, make_article, reader):
    draft = make_article(status="draft")
    with pytest.raises(NotFound):
        comments.submit(draft, reader, "Sneaky")


def test_comments_do_not_change_the_articles_updated_date(app, db, article, reader):
    before = article.updated_at
    post(db, article, reader, "Counting me must not look like an edit of the article")
    db.session.refresh(article)
    assert article.comment_count == 1
    assert article.updated_at == before


def test_a_reply_whose_parent_went_away_before_it_was_stored_is_refused(db, article, reader):
    parent = comments.submit(article, reader, "The parent")
    db.session.commit()
    reply = comments.prepare(article, reader, "A reply, scored before it is stored", parent.id)
    # Another request removes the parent between the reads and the write.
    db.session.execute(sa.delete(Comment).where(Comment.id == parent.id))
    with pytest.raises(InvalidInput):
        comments.store(reply)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalars(sa.select(Comment.body)).all() == ["The parent"]
    assert article.comment_count == 1


def test_prepare_then_store_is_what_submit_does(db, article, reader):
    prepared = comments.prepare(article, reader, "Scored *first*, stored after.")
    assert (
        prepared.id is None
        and prepared.html.strip() == "<p>Scored <em>first</em>, stored after.</p>"
    )
    stored = comments.store(prepared)
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Comment, stored.id)
    assert again.body == "Scored *first*, stored after." and again.status == "published"
    assert article.comment_count == 1


# --- the rules, and the facts the thread hands to pages and the API ------------------


def test_the_report_reasons_are_exactly_the_flag_reasons():
    from webapp.models import FlagReason

    assert list(comments.FLAG_REASONS) == [reason.value for reason in FlagReason]
    assert all(comments.FLAG_REASONS.values())


def test_the_edit_window_ends_fifteen_minutes_after_posting(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    end = comment.created_at + comments.EDIT_WINDOW
    assert comments.EDIT_MINUTES == 15
    assert comments.edit_until(comment, reader, comment.created_at) == end
    assert comments.edit_until(comment, reader, end) == end
    assert comments.edit_until(comment, reader, end + timedelta(seconds=1)) is None
    assert comments.edit_until(comment, make_user(), comment.created_at) is None
    assert comments.edit_until(comment, None, comment.created_at) is None


def test_each_comment_says_what_its_reader_may_do(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    moment = comment.created_at + timedelta(minutes=1)

    def facts(viewer):
        [node] = comments.thread(article, viewer, moment=moment).items
        return (
            node.can_edit_until is not None,
            node.can_delete,
            node.can_react,
            node.can_report,
            node.can_reply,
        )

    # Its author neither votes on nor reports it (issue 19), but may answer it.
    assert facts(reader) == (True, True, False, False, True)
    assert facts(make_user()) == (False, False, True, True, True)
    assert facts(make_user(role="moderator")) == (False, True, True, True, True)
    assert facts(None) == (False, False, False, False, False)
    [node] = comments.thread(article, reader, moment=moment).items
    assert node.can_edit_until == comment.created_at + comments.EDIT_WINDOW
    [late] = comments.thread(article, reader, moment=moment + comments.EDIT_WINDOW).items
    assert late.can_edit_until is None and late.can_delete


def test_a_closed_article_offers_no_reply_and_says_so(app, db, make_article, reader, make_user):
    from webapp.services import articles

    article = make_article()
    post(db, article, reader)
    assert comments.thread(article, reader).comments_open
    articles.update_article(article, articles.ArticleChanges(comments="closed"))
    db.session.commit()
    page = comments.thread(article, make_user())
    assert not page.comments_open
    [node] = page.items
    assert not node.can_reply and node.can_react and node.can_report


def test_held_and_deleted_comments_take_no_reactions_reports_or_replies(
    app, db, make_article, reader, make_user
):
    held = make_article(comments="premoderated")
    post(db, held, reader, "Waiting")
    [node] = comments.thread(held, reader).items
    assert node.comment.status == "pending"
    assert not (node.can_react or node.can_report or node.can_reply)
    assert node.can_delete and node.can_edit_until is not None

    article = make_article()
    parent = post(db, article, reader, "Going")
    post(db, article, make_user(), "Staying", parent=parent)
    comments.delete(parent, reader)
    db.session.commit()
    [node] = comments.thread(article, reader).items
    assert node.comment.is_deleted
    assert not (node.can_react or node.can_report or node.can_reply)
    assert node.can_edit_until is None
