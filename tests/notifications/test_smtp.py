"""A reply mail as it arrives over SMTP (the suite's aiosmtpd server): its headers, its
links, and its one-click unsubscribe followed as a mail client would."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.mail.server import deliver_outbox
from tests.notifications.conftest import BATCH_MINUTES, later
from webapp.extensions import db
from webapp.services import comments
from webapp.services.notifications import settings
from webapp.services.notifications.replies import mail_due_replies


def test_a_reply_mail_arrives_with_one_click_unsubscribe_that_works(
    app, smtp_server, make_article, make_user
):
    article = make_article()
    reader = make_user(email="reader@example.org")
    other = make_user(name="Ann Answer")
    comment = comments.submit(article, reader, "Mail me when someone answers this.")
    settings.remember_reply_choice(comment, reader, True)
    db.session.commit()
    reply = comments.submit(article, other, "An answer that goes out by mail.", comment.id)
    db.session.commit()
    assert mail_due_replies(later(BATCH_MINUTES + 1)) == 1
    deliver_outbox(app)

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "Ann Answer replied to your comment"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip()
    assert unsubscribe.startswith("<https://news.example/unsubscribe/") and unsubscribe.endswith(
        ">"
    )
    unsubscribe_link = unsubscribe[1:-1]
    assert "An answer that goes out by mail." in smtp_server.text(message)
    links = smtp_server.links(message)
    assert f"https://news.example/comments/{reply.id}" in links
    assert unsubscribe_link in links  # also in the body, for a reader without the button

    client = app.test_client()
    # The permalink leads to the reply on its article's page.
    permalink = client.get(urlsplit(f"https://news.example/comments/{reply.id}").path)
    assert permalink.status_code == 302 and f"#comment-{reply.id}" in permalink.headers["Location"]
    path = urlsplit(unsubscribe_link).path
    assert client.get(path).status_code == 200  # a preview or scanner: nothing changes
    db.session.expire_all()
    assert settings.settings_for(reader.id).replies_enabled
    # RFC 8058: the mail client's POST, no cookie, no token.
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert not settings.settings_for(reader.id).replies_enabled
