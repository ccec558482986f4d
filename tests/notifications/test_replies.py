"""Reply notifications: subscribed per comment, noted by trigger when a reply is
published, mailed in batches by the worker's chore (on SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.notifications.conftest import BATCH_MINUTES, later, outbox
from webapp.extensions import db
from webapp.models.notifications import PendingReplyNotice, ReplySubscription
from webapp.services import comments, moderation
from webapp.services.notifications import settings
from webapp.services.notifications.replies import mail_due_replies


def _subscribed(article, author, text="A first comment worth answering."):  # type: ignore[no-untyped-def]
    comment = comments.submit(article, author, text)
    settings.remember_reply_choice(comment, author, True)
    db.session.commit()
    return comment


def _waiting() -> list[tuple[int, int]]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(PendingReplyNotice.user_id, PendingReplyNotice.reply_id)
        )
    ]


def test_two_replies_within_the_interval_make_one_mail_after_it(make_article, make_user):
    article = make_article()
    reader, ann, bob = make_user(), make_user(name="Ann Answer"), make_user(name="Bob Reply")
    comment = _subscribed(article, reader)
    first = comments.submit(article, ann, "I see it differently, and here is why.", comment.id)
    second = comments.submit(article, bob, "Agreed with the comment above.", comment.id)
    db.session.commit()

    assert mail_due_replies() == 0  # the interval has not passed: nothing yet
    db.session.commit()
    assert outbox() == []

    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 1
    db.session.commit()
    [mail] = outbox("reply")
    assert mail.to_address == reader.email
    assert mail.subject == "2 new replies to your comments"
    assert "Ann Answer" in mail.text_body and "Bob Reply" in mail.text_body
    assert "I see it differently, and here is why." in mail.text_body
    assert f"https://news.example/comments/{first.id}" in mail.text_body
    assert f"https://news.example/comments/{second.id}" in mail.text_body
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _waiting() == []

    # Nothing twice: the next pass finds nothing.
    assert mail_due_replies(later(BATCH_MINUTES * 3)) == 0


def test_a_reply_after_a_mail_waits_for_the_next_interval(make_article, make_user):
    article = make_article()
    reader, other = make_user(), make_user()
    comment = _subscribed(article, reader)
    comments.submit(article, other, "The first answer to you.", comment.id)
    db.session.commit()
    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 1
    db.session.commit()
    comments.submit(article, other, "A second answer, soon after.", comment.id)
    db.session.commit()
    assert mail_due_replies(later(BATCH_MINUTES + 2)) == 0  # mailed a minute ago
    assert mail_due_replies(later(2 * BATCH_MINUTES + 2)) == 1
    db.session.commit()
    assert len(outbox("reply")) == 2


def test_own_replies_and_unsubscribed_comments_notify_nobody(make_article, make_user):
    article = make_article()
    reader, other = make_user(), make_user()
    comment = _subscribed(article, reader)
    comments.submit(article, reader, "Replying to myself, as one does.", comment.id)
    plain = comments.submit(article, reader, "A comment without the box ticked.")
    db.session.commit()
    comments.submit(article, other, "An answer to the plain comment.", plain.id)
    db.session.commit()
    assert _waiting() == []
    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 0


def test_a_held_reply_is_told_when_approved_and_a_rejected_one_never(make_article, make_user):
    article = make_article(comments="premoderated")
    reader, other, moderator = make_user(), make_user(), make_user("moderator")
    # Premoderated: even the subscribed comment is held; approve it first.
    comment = _subscribed(article, reader)
    moderation.decide(comment, moderator, "approve")
    held = comments.submit(article, other, "An answer a moderator reads first.", comment.id)
    rejected = comments.submit(
        article, other, "Another one a moderator will turn down.", comment.id
    )
    db.session.commit()
    assert held.status == "pending" and _waiting() == []

    moderation.decide(held, moderator, "approve")
    db.session.commit()
    assert _waiting() == [(reader.id, held.id)]
    # Published, then rejected before the mail: dropped.
    moderation.decide(rejected, moderator, "approve")
    moderation.decide(db.session.get(type(rejected), rejected.id), moderator, "reject")
    db.session.commit()
    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 1
    db.session.commit()
    [mail] = outbox("reply")
    assert "An answer a moderator reads first." in mail.text_body
    assert "turn down" not in mail.text_body


def test_banned_readers_and_deleted_replies_get_nothing(make_article, make_user):
    article = make_article()
    reader, banned, other, moderator = make_user(), make_user(), make_user(), make_user("moderator")
    comment = _subscribed(article, reader)
    banned_comment = _subscribed(article, banned, "Another comment, by a reader soon banned.")
    reply = comments.submit(article, other, "An answer that its author deletes.", comment.id)
    comments.submit(article, other, "An answer to the banned reader.", banned_comment.id)
    db.session.commit()
    comments.delete(reply, other)
    moderation.ban(banned, moderator, "Spam")
    db.session.commit()
    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 0
    db.session.commit()
    assert outbox() == [] and _waiting() == []


def test_the_form_box_and_the_api_field_subscribe(app, make_article, make_user, api):
    article = make_article()
    reader = make_user()
    api.login(reader)
    posted = api.post(
        f"/api/v1/articles/{article.slug}/comments",
        {"body": "Posted with notify_replies, from a script.", "notify_replies": True},
    )
    assert posted.status_code == 201, posted.get_json()
    plain = api.post(f"/api/v1/articles/{article.slug}/comments", {"body": "Posted without it."})
    page = api.form(
        f"/articles/{article.slug}/comments",
        {
            "body": "Posted from the page, box ticked.",
            "notify_replies_offered": "1",
            "notify_replies": "y",
        },
    )
    assert page.status_code in (302, 303)
    db.session.expire_all()
    subscribed = set(db.session.scalars(sa.select(ReplySubscription.comment_id)))
    assert posted.get_json()["id"] in subscribed
    assert plain.get_json()["id"] not in subscribed
    assert len(subscribed) == 2


def test_the_account_default_ticks_the_box(app, make_article, make_user, api):
    article = make_article()
    reader = make_user()
    api.login(reader)
    page = api.get(f"/articles/{article.slug}")
    assert 'name="notify_replies" value="y">' in page.get_data(as_text=True)  # unticked
    saved = api.form("/account/notifications", {"replies_enabled": "y", "reply_default": "y"})
    assert saved.status_code == 302
    page = api.get(f"/articles/{article.slug}")
    assert 'name="notify_replies" value="y" checked>' in page.get_data(as_text=True)
    # The API without the field follows the default; with false, it does not.
    yes = api.post(f"/api/v1/articles/{article.slug}/comments", {"body": "Default says yes."})
    no = api.post(
        f"/api/v1/articles/{article.slug}/comments",
        {"body": "Explicitly not this one.", "notify_replies": False},
    )
    db.session.expire_all()
    subscribed = set(db.session.scalars(sa.select(ReplySubscription.comment_id)))
    assert subscribed == {yes.get_json()["id"]}
    assert no.status_code == 201
