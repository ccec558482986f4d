"""Reports reach moderators and cannot be used to silence people: one report puts a
comment in the Reported queue; only reports weighing enough hide it, and reports from
brand-new accounts weigh little; an author's edit does not bring back a hidden one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.models import CommentFlag, utcnow
from webapp.services import comments
from webapp.services.comments import (
    FULL_REPORT_WEIGHT,
    NEW_ACCOUNT_REPORT_WEIGHT,
    report_weight,
)
from webapp.services.moderation import actions as moderation_actions
from webapp.services.moderation import queues as moderation_queue
from webapp.services.moderation import update_moderation_settings


@pytest.fixture
def article(make_article):
    return make_article()


def post(db, article, author, body="A fair point about the ceasefire."):
    comment = comments.submit(article, author, body)
    db.session.commit()
    assert comment.status == "published"
    return comment


def reported_ids() -> list[int]:
    return [item.comment.id for item in moderation_queue.queue("reported")[0]]


def test_a_report_weighs_in_full_only_from_an_established_account(
    app, db, make_user, make_established_user, article
):
    assert report_weight(make_established_user(), 24) == FULL_REPORT_WEIGHT
    brand_new = make_user()
    assert report_weight(brand_new, 24) == NEW_ACCOUNT_REPORT_WEIGHT
    # A published comment alone is not enough while the account is young ...
    post(db, article, brand_new)
    assert report_weight(brand_new, 24) == NEW_ACCOUNT_REPORT_WEIGHT
    # ... nor age alone, without anything published.
    old_but_silent = make_user()
    old_but_silent.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    assert report_weight(old_but_silent, 24) == NEW_ACCOUNT_REPORT_WEIGHT
    # The age the site asks for is a setting; 0 leaves only "has published".
    assert report_weight(brand_new, 0) == FULL_REPORT_WEIGHT
    assert report_weight(brand_new, 1, moment=utcnow() + timedelta(hours=2)) == FULL_REPORT_WEIGHT


def test_each_report_keeps_the_weight_it_was_made_with(
    app, db, article, reader, make_user, make_established_user
):
    comment = post(db, article, reader)
    comments.flag(comment, make_user(), "spam")
    comments.flag(comment, make_established_user(), "spam")
    db.session.commit()
    weights = sorted(db.session.scalars(db.select(CommentFlag.weight)))
    assert weights == [NEW_ACCOUNT_REPORT_WEIGHT, FULL_REPORT_WEIGHT]


def test_one_report_reaches_moderators_and_the_count_agrees(app, db, article, reader, make_user):
    comment = post(db, article, reader)
    comments.flag(comment, make_user(), "abuse", "Personal attack")
    db.session.commit()
    assert comment.status == "published" and comment.reported_at is not None
    [item] = moderation_queue.queue("reported")[0]
    assert item.comment.id == comment.id and item.open_reports == 1
    assert item.notes == [("abuse", "Personal attack")]
    assert moderation_queue.queue_counts()["reported"] == 1


def test_the_reported_queue_puts_most_reporters_first_then_the_longest_waiting(
    app, db, article, reader, make_user
):
    start = utcnow() - timedelta(hours=5)
    one_early, two_late, two_early, one_late = (
        post(db, article, reader, f"c{n}") for n in range(4)
    )

    def report(comment, hours, readers=1):
        for _ in range(readers):
            comments.flag(comment, make_user(), "spam", moment=start + timedelta(hours=hours))

    report(one_early, 0)
    report(two_late, 3, readers=2)
    report(two_early, 1)
    report(one_late, 4)
    report(two_early, 2)  # its second reader comes later; it has waited since hour 1
    db.session.commit()
    expected = [two_early.id, two_late.id, one_early.id, one_late.id]
    assert reported_ids() == expected
    assert [i.open_reports for i in moderation_queue.queue("reported")[0]] == [2, 2, 1, 1]
    # Pages follow the same order without repeating or skipping.
    first, cursor = moderation_queue.queue("reported", limit=3)
    rest, end = moderation_queue.queue("reported", limit=3, after=cursor)
    assert [i.comment.id for i in first + rest] == expected and end is None


def test_brand_new_accounts_cannot_hide_a_comment(
    app, db, article, reader, make_user, make_established_user, moderator
):
    update_moderation_settings(moderator, {"hide_reported": True})  # threshold 3 by default
    db.session.commit()
    target = post(db, article, reader, "An unpopular but fair opinion.")
    for _ in range(3):
        comments.flag(target, make_user(), "abuse")
    db.session.commit()
    assert target.status == "published"
    assert comments.thread(article, None).items  # readers still see it
    assert reported_ids() == [target.id]  # and moderators hear about it

    abusive = post(db, article, reader, "Another comment.")
    for _ in range(3):
        comments.flag(abusive, make_established_user(), "abuse")
    db.session.commit()
    assert abusive.status == "pending"
    assert "reported by 3 readers" in abusive.reasons_held


def test_many_new_accounts_add_up_with_established_ones(
    app, db, article, reader, make_user, make_established_user, moderator
):
    update_moderation_settings(moderator, {"hide_reported": True, "report_threshold": 2})
    db.session.commit()
    comment = post(db, article, reader)
    comments.flag(comment, make_established_user(), "spam")
    for _ in range(3):
        comments.flag(comment, make_user(), "spam")
    assert comment.status == "published"  # 1 + 3 x 0.25 = 1.75
    comments.flag(comment, make_user(), "spam")
    db.session.commit()
    assert comment.status == "pending"  # 2.0


def test_an_authors_edit_keeps_a_report_hidden_comment_held(
    app, db, article, reader, moderator, make_established_user
):
    update_moderation_settings(moderator, {"hide_reported": True, "report_threshold": 1})
    db.session.commit()
    comment = post(db, article, reader, "Something readers objected to.")
    comments.flag(comment, make_established_user(), "abuse")
    db.session.commit()
    assert comment.status == "pending"

    comments.edit(comment, reader, "Something entirely harmless now.")
    db.session.commit()
    assert comment.status == "pending"
    assert comment.reasons_held == ["reported by 1 reader"]
    assert comment.body == "Something entirely harmless now."
    assert comments.thread(article, None).items == []
    assert reported_ids() == [comment.id]

    moderation_actions.decide(comment, moderator, "approve")
    db.session.commit()
    assert comment.status == "published" and comment.reported_at is None
    # Once a moderator has decided, edits are checked as usual again.
    comments.edit(comment, reader, "Something harmless, with a typo fixed.")
    db.session.commit()
    assert comment.status == "published"


def test_a_decision_closes_the_reports_and_new_ones_reopen_them(
    app, db, article, reader, moderator, make_user
):
    comment = post(db, article, reader)
    for _ in range(2):
        comments.flag(comment, make_user(), "spam")
    db.session.commit()
    moderation_actions.decide(comment, moderator, "approve")
    db.session.commit()
    assert comment.reported_at is None and reported_ids() == []
    assert moderation_queue.queue_counts()["reported"] == 0

    comments.flag(comment, make_user(), "off_topic")
    db.session.commit()
    [item] = moderation_queue.queue("reported")[0]
    assert item.open_reports == 1  # the two before the decision are closed
    moderation_actions.decide(comment, moderator, "reject", "Off topic")
    db.session.commit()
    assert reported_ids() == [] and moderation_queue.queue_counts()["reported"] == 0
