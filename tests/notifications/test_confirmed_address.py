"""Notification mail goes only to confirmed addresses: an unconfirmed reader's replies
are dropped when their mail falls due (not saved up for a burst after confirming), staff
alerts and digests pass an unconfirmed account over, a host site's reader is mailed at
the address the site vouches for but never at a placeholder, and the settings page says
why."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import render_template
from flask_login import login_user

from tests.accounts.conftest import link_path, mails
from tests.mail.server import deliver_outbox
from tests.notifications.conftest import BATCH_MINUTES, later, outbox
from webapp.extensions import db
from webapp.models import User, utcnow
from webapp.models.notifications import PendingReplyNotice
from webapp.services import comments, embed
from webapp.services.notifications import settings, staff
from webapp.services.notifications.replies import mail_due_replies

NOTICE = "Mail waits for you to confirm your address"


def _subscribed(article, author, text="A comment I want answers to."):  # type: ignore[no-untyped-def]
    comment = comments.submit(article, author, text)
    settings.remember_reply_choice(comment, author, True)
    db.session.commit()
    return comment


def _reply(article, author, comment, text):  # type: ignore[no-untyped-def]
    reply = comments.submit(article, author, text, comment.id)
    db.session.commit()
    return reply


def _waiting() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(PendingReplyNotice)) or 0


def _mail_replies(minutes: float) -> int:
    written = mail_due_replies(later(minutes))
    db.session.commit()
    return written


def _confirm(api) -> None:  # type: ignore[no-untyped-def]
    """The reader asks for the link and follows it, as on the account page."""
    assert api.post("/api/v1/auth/verify-email").status_code == 204
    token = link_path(mails("verify_address")[-1].text_body).rsplit("/", 1)[1]
    assert api.post("/api/v1/auth/verify-email/confirm", {"token": token}).status_code == 204


def test_an_unconfirmed_reader_gets_no_reply_mail_and_no_burst_after_confirming(
    app, make_article, make_user, api, smtp_server
):
    article = make_article()
    reader = make_user(confirmed=False, email="unproven@example.org")
    other = make_user(name="Ann Answer")
    comment = _subscribed(article, reader)
    _reply(article, other, comment, "An answer while the address is unproven.")
    assert _waiting() == 1

    # Due, but the address is not confirmed: dropped, not kept for later.
    assert _mail_replies(BATCH_MINUTES + 1) == 0
    assert outbox("reply") == [] and _waiting() == 0

    _reply(article, other, comment, "A second answer, still before confirming.")
    api.login(reader)
    _confirm(api)
    db.session.expire_all()
    assert db.session.get(User, reader.id).email_verified_at is not None
    after = _reply(article, other, comment, "An answer after the address was confirmed.")

    assert _mail_replies(BATCH_MINUTES + 1) == 1
    [mail] = outbox("reply")
    assert mail.to_address == "unproven@example.org"
    assert mail.subject == "Ann Answer replied to your comment"
    assert "after the address was confirmed" in mail.text_body
    assert f"https://news.example/comments/{after.id}" in mail.text_body
    assert "before confirming" not in mail.text_body
    assert _waiting() == 0
    assert _mail_replies(BATCH_MINUTES * 4) == 0

    # And it arrives (the verification mail and the reply mail, nothing else).
    deliver_outbox(app)
    received = smtp_server.to("unproven@example.org")
    assert [message["Subject"] for message in received][-1] == mail.subject
    assert sum("replied" in str(message["Subject"]) for message in received) == 1


def test_staff_mail_passes_an_unconfirmed_account_over_and_owes_it_nothing(
    app, make_article, make_user
):
    confirmed = make_user("moderator")
    unconfirmed = make_user("moderator", confirmed=False)
    for user in (confirmed, unconfirmed):
        settings.update(
            user,
            settings.SettingsChange(
                reply_default=False, replies_enabled=True, pending_threshold=1, daily_digest=True
            ),
        )
    db.session.commit()
    article = make_article(comments="premoderated")
    writer = make_user()
    for number in range(3):
        comments.submit(article, writer, f"Held comment number {number}, for the queue.")
    db.session.commit()

    assert staff.check_queues() == 1
    now = utcnow()
    assert staff.send_digests(now) == 1
    db.session.commit()
    assert {mail.to_address for mail in outbox()} == {confirmed.email}

    # Confirmed later: the queue, still over the size, is told once; the day's digest
    # goes once; nothing from before is sent on top.
    db.session.get(User, unconfirmed.id).email_verified_at = utcnow()
    db.session.commit()
    assert staff.check_queues() == 1
    assert staff.check_queues() == 0
    assert staff.send_digests(now + timedelta(minutes=5)) == 1
    assert staff.send_digests(now + timedelta(minutes=10)) == 0
    db.session.commit()
    to_them = [mail.kind for mail in outbox() if mail.to_address == unconfirmed.email]
    assert sorted(to_them) == ["daily_digest", "queue_alert"]


def test_a_host_sites_reader_is_mailed_at_the_address_the_site_vouches_for(
    app, make_article, make_user, make_site, host_token
):
    """The embedding part (webapp/services/embed/host_sign_in.py) counts the address a
    registered site sends for its reader as confirmed: reply mail goes there."""
    site = make_site()
    host_reader = embed.sign_in_host_reader(
        site, embed.verify_host_token(site, host_token(site, email="Ada@News.Example"))
    )
    db.session.commit()
    assert host_reader.email == "ada@news.example"
    assert host_reader.email_verified_at is not None

    article = make_article()
    comment = _subscribed(article, host_reader, "Written from the host's page.")
    _reply(article, make_user(), comment, "An answer the host's reader is mailed.")
    assert _mail_replies(BATCH_MINUTES + 1) == 1
    assert [mail.to_address for mail in outbox("reply")] == ["ada@news.example"]


def test_the_settings_page_says_mail_waits_for_confirmation(app, make_user, api):
    reader = make_user(confirmed=False)
    api.login(reader)

    for path in ("/account/notifications", "/account"):
        page = api.get(path).get_data(as_text=True)
        assert NOTICE in page, path
        assert "nothing is saved up to be sent later" in page
        assert "Mail me the link" in page

    # Asking for the link from there mails it and comes back to the settings.
    sent = api.form("/account/verify", {"next": "/account/notifications#mail-settings"})
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith("/account/notifications#mail-settings")
    assert len(mails("verify_address", to=reader.email)) == 1

    # Saving with reply mail on says it again; with every mail off there is nothing to wait.
    saved = api.form("/account/notifications", {"replies_enabled": "y"}, follow_redirects=True)
    assert "No mail goes out until you confirm your address" in saved.get_data(as_text=True)
    off = api.form("/account/notifications", {}, follow_redirects=True).get_data(as_text=True)
    assert NOTICE not in off and "No mail goes out" not in off

    confirmed = make_user()
    api.login(confirmed)
    page = api.get("/account/notifications").get_data(as_text=True)
    assert NOTICE not in page and "Mail me the link" not in page


def test_an_account_without_a_usable_address_gets_no_mail_and_is_told(
    app, make_article, make_user, make_site, host_token
):
    """A host site's reader whose address was taken or unusable gets a placeholder under
    .invalid (host_sign_in.py): the page does not offer a link that could never arrive."""
    make_user(email="taken@news.example")
    site = make_site()
    host_reader = embed.sign_in_host_reader(
        site, embed.verify_host_token(site, host_token(site, email="taken@news.example"))
    )
    db.session.commit()
    assert host_reader.email.endswith(".invalid")
    assert host_reader.email_verified_at is None
    assert not settings.can_be_mailed(host_reader)
    assert settings.can_be_mailed(make_user(email="someone@invalid.example.org"))

    article = make_article()
    comment = _subscribed(article, host_reader, "Written with no address to mail.")
    _reply(article, make_user(), comment, "An answer nobody can be mailed about.")
    assert _mail_replies(BATCH_MINUTES + 1) == 0
    assert outbox("reply") == [] and _waiting() == 0

    with app.test_request_context("/account/notifications"):
        login_user(host_reader)
        page = render_template("notifications/settings.html", user=host_reader, errors={})
    assert "This account has no address Pulse can mail" in page
    assert NOTICE not in page and "Mail me the link" not in page


def test_the_comment_forms_say_where_reply_mail_would_wait(make_article, make_user, make_api):
    """The reply box itself says it: a reader who ticks it on an unconfirmed address is
    pointed to the confirmation, a confirmed reader gets the plain box."""
    article = make_article()
    hint = "mail goes only to a confirmed address"
    unconfirmed, confirmed = make_api(), make_api()
    unconfirmed.login(make_user(confirmed=False))
    page = unconfirmed.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "Mail me when someone replies" in page and hint in page
    assert 'href="/account/notifications#mail-unconfirmed"' in page
    confirmed.login(make_user())
    page = confirmed.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "Mail me when someone replies" in page and hint not in page
