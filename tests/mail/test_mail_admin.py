"""/admin/mail: admins see failed and waiting mail and send it again."""

from __future__ import annotations

import pytest

from tests.mail.server import deliver_outbox
from webapp.extensions import db
from webapp.models.mail import OutboxMessage
from webapp.services.mail.outbox import enqueue


def _message(to: str, status: str, error: str | None = None) -> int:
    message = enqueue(kind="reply", to=to, subject=f"For {to}", text="Hello")
    message.status, message.last_error = status, error
    message.attempts = 6 if status == "failed" else 0
    db.session.commit()
    return message.id


def test_admins_see_failed_mail_and_send_it_again(app, api, make_user, smtp_server):
    failed = _message("gone@example.com", "failed", "550 5.1.1 No such user")
    other = _message("later@example.com", "failed", "timed out")
    _message("waiting@example.com", "pending")
    _message("done@example.com", "sent")
    api.login(make_user(role="admin"))

    page = api.get("/admin/mail")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "gone@example.com" in html and "550 5.1.1 No such user" in html
    assert "waiting@example.com" in html and "done@example.com" not in html
    assert 'name="csrf_token"' in html

    response = api.form("/admin/mail/retry", {"id": str(failed)})
    assert response.status_code == 302
    deliver_outbox(app)
    assert [m["To"] for m in smtp_server.messages] == ["gone@example.com", "waiting@example.com"]
    db.session.expire_all()
    assert db.session.get(OutboxMessage, other).status == "failed"

    api.form("/admin/mail/retry", {"all": "failed"})
    deliver_outbox(app)
    assert len(smtp_server.to("later@example.com")) == 1
    assert "No failed messages." in api.get("/admin/mail").get_data(as_text=True)


def test_a_retry_without_the_csrf_token_is_refused(app, api, make_user):
    failed = _message("gone@example.com", "failed", "550")
    api.login(make_user(role="admin"))
    response = api.client.post("/admin/mail/retry", data={"id": str(failed)})
    assert response.status_code == 403  # the app's answer to a missing CSRF token
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed).status == "failed"


@pytest.mark.parametrize("role", ["reader", "moderator", "editor"])
def test_only_admins_see_the_mail_page(app, api, make_user, role):
    failed = _message("gone@example.com", "failed", "550")
    assert api.get("/admin/mail").status_code == 401
    api.login(make_user(role=role))
    assert api.get("/admin/mail").status_code == 403
    assert api.form("/admin/mail/retry", {"all": "failed"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed).status == "failed"


@pytest.mark.parametrize(("role", "linked"), [("moderator", False), ("admin", True)])
def test_the_moderation_tabs_link_the_outbox_for_admins_only(api, make_user, role, linked):
    api.login(make_user(role=role))
    page = api.get("/moderation/queue/pending").get_data(as_text=True)
    assert ('href="/admin/mail"' in page) is linked
