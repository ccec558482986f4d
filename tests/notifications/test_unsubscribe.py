"""Unsubscribing: one POST without a session or CSRF token (RFC 8058, as a mail client
sends it) turns that kind of mail off; a GET (a link scanner, a preview) does not; a
forged token does nothing."""

from __future__ import annotations

from tests.notifications.conftest import BATCH_MINUTES, later, outbox, token_of
from webapp.extensions import db
from webapp.services import comments
from webapp.services.notifications import settings
from webapp.services.notifications.replies import mail_due_replies
from webapp.services.notifications.tokens import read_token, unsubscribe_token


def _reply_mail(make_article, make_user):  # type: ignore[no-untyped-def]
    article = make_article()
    reader, other = make_user(), make_user()
    comment = comments.submit(article, reader, "Tell me when someone answers.")
    settings.remember_reply_choice(comment, reader, True)
    db.session.commit()
    comments.submit(article, other, "Here is an answer.", comment.id)
    db.session.commit()
    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 1
    db.session.commit()
    [mail] = outbox("reply")
    return reader, mail, article, comment, other


def _replies_enabled(user_id: int) -> bool:
    db.session.expire_all()
    return bool(settings.settings_for(user_id).replies_enabled)


def test_get_shows_a_button_and_unsubscribes_nobody(app, make_article, make_user):
    reader, mail, *_ = _reply_mail(make_article, make_user)
    link = mail.headers["List-Unsubscribe"].strip("<>").removeprefix("https://news.example")
    page = app.test_client().get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "replies to your comments" in html and "<button" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert _replies_enabled(reader.id)


def test_one_click_post_without_session_or_csrf_turns_replies_off(app, make_article, make_user):
    reader, mail, article, comment, other = _reply_mail(make_article, make_user)
    link = mail.headers["List-Unsubscribe"].strip("<>").removeprefix("https://news.example")
    # What a mail client sends: no cookie, no token, no Origin or Sec-Fetch-Site.
    done = app.test_client().post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.get_data(as_text=True)
    assert not _replies_enabled(reader.id)
    # The next reply is dropped, not mailed.
    comments.submit(article, other, "Another answer nobody is told of.", comment.id)
    db.session.commit()
    assert mail_due_replies(later(3 * BATCH_MINUTES)) == 0
    assert len(outbox("reply")) == 1


def test_forged_and_damaged_tokens_are_refused(app, make_article, make_user):
    reader, mail, *_ = _reply_mail(make_article, make_user)
    token = token_of(mail)
    assert read_token(token) == (reader.id, "reply")
    client = app.test_client()
    # Another account's id with the signature of this one's.
    payload, signature = token.rsplit(".", 1)
    other = unsubscribe_token(reader.id + 1, "reply").rsplit(".", 1)[0]
    for forged in (f"{other}.{signature}", token[:-2] + "xx", "not-a-token"):
        assert read_token(forged) is None
        assert client.post(f"/unsubscribe/{forged}").status_code == 404
        assert client.get(f"/unsubscribe/{forged}").status_code == 404
    # A token signed with another key (another site) is refused too.
    from itsdangerous import URLSafeSerializer

    foreign = URLSafeSerializer("another-key", salt="pulse.unsubscribe").dumps(
        {"u": reader.id, "k": "reply"}
    )
    assert client.post(f"/unsubscribe/{foreign}").status_code == 404
    assert _replies_enabled(reader.id)


def test_a_token_turns_off_only_its_own_kind(app, make_user):
    moderator = make_user("moderator")
    settings.update(
        moderator,
        settings.SettingsChange(
            reply_default=True, replies_enabled=True, pending_threshold=5, daily_digest=True
        ),
    )
    db.session.commit()
    client = app.test_client()
    assert (
        client.post(f"/unsubscribe/{unsubscribe_token(moderator.id, 'daily_digest')}").status_code
        == 200
    )
    db.session.expire_all()
    row = settings.settings_for(moderator.id)
    assert not row.daily_digest
    assert row.pending_threshold == 5 and row.replies_enabled and row.reply_default


def test_the_settings_page_turns_every_mail_off_and_checks_sizes(app, make_user, api):
    moderator = make_user("moderator")
    api.login(moderator)
    page = api.get("/account/notifications").get_data(as_text=True)
    assert "Pending queue" in page and "daily digest" in page
    assert "poll's answer shares" not in page  # an editor's setting
    refused = api.form("/account/notifications", {"pending_threshold": "many"})
    assert refused.status_code == 422
    assert "whole number" in refused.get_data(as_text=True)
    api.form("/account/notifications", {"pending_threshold": "20", "daily_digest": "y"})
    db.session.expire_all()
    row = settings.settings_for(moderator.id)
    assert row.pending_threshold == 20 and row.daily_digest and not row.replies_enabled
    api.form("/account/notifications", {})
    db.session.expire_all()
    row = settings.settings_for(moderator.id)
    assert not any(settings.is_on(row, kind) for kind in settings.KINDS)


def test_a_reader_cannot_turn_on_staff_mail(app, make_user, api):
    reader = make_user()
    api.login(reader)
    api.form("/account/notifications", {"pending_threshold": "1", "poll_shift_alerts": "y"})
    db.session.expire_all()
    row = settings.settings_for(reader.id)
    assert row.pending_threshold is None and not row.poll_shift_alerts
