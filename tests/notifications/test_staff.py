"""Staff mail: a moderator's queue alert once per crossing of their size, the daily
digest once a day, editors' alerts for moved poll shares and votes set aside."""

from __future__ import annotations

from datetime import timedelta

from tests.notifications.conftest import outbox, token_of
from webapp.extensions import db
from webapp.models import ModerationAction, utcnow
from webapp.models.notifications import PollShareSnapshot
from webapp.services import comments, moderation
from webapp.services.notifications import settings, staff


def _staff(make_user, role: str, **change):  # type: ignore[no-untyped-def]
    user = make_user(role)
    settings.update(
        user, settings.SettingsChange(reply_default=False, replies_enabled=True, **change)
    )
    db.session.commit()
    return user


def _check_queues() -> int:
    sent = staff.check_queues()
    db.session.commit()
    return sent


def test_a_queue_alert_goes_once_per_crossing(app, make_article, make_user):
    moderator = _staff(make_user, "moderator", pending_threshold=1)
    _staff(make_user, "moderator")  # asked for nothing
    article = make_article(comments="premoderated")
    writer = make_user()
    held = [
        comments.submit(article, writer, f"Held comment number {n} for review.") for n in range(2)
    ]
    db.session.commit()

    assert _check_queues() == 1
    [alert] = outbox("queue_alert")
    assert alert.to_address == moderator.email
    assert alert.subject == "The Pending queue holds 2 comments"
    assert "https://news.example/moderation/queue/pending" in alert.text_body
    assert token_of(alert)
    assert _check_queues() == 0  # still over: not told again
    comments.submit(article, writer, "A third held comment, same crossing.")
    db.session.commit()
    assert _check_queues() == 0

    moderation.decide_many([c.id for c in held], moderator, "approve")
    db.session.commit()
    assert _check_queues() == 0  # 1 left: back within the size, the alert re-arms
    comments.submit(article, writer, "A new crossing of the size.")
    db.session.commit()
    assert _check_queues() == 1
    assert len(outbox("queue_alert")) == 2


def test_the_daily_digest_goes_once_a_day_with_the_figures(app, make_article, make_user):
    moderator = _staff(make_user, "moderator", daily_digest=True)
    article = make_article(comments="premoderated")
    writer = make_user()
    comment = comments.submit(article, writer, "A comment held for the digest.")
    db.session.commit()
    moderation.decide(comment, moderator, "reject", reason="Off topic")
    comments.submit(article, writer, "Another comment, still held.")
    db.session.commit()

    now = utcnow()
    assert staff.send_digests(now) == 1
    db.session.commit()
    # Later the same UTC day: an hour on, but never past midnight (a run after 23:00
    # UTC would otherwise ask on the next day, and rightly get a second digest).
    end_of_day = now.replace(hour=23, minute=59, second=59, microsecond=999999)
    assert staff.send_digests(min(now + timedelta(hours=1), end_of_day)) == 0
    [digest] = outbox("daily_digest")
    assert digest.to_address == moderator.email
    assert "Pending:  1" in digest.text_body
    assert "Rejected: 1" in digest.text_body
    assert "Comments posted: 2" in digest.text_body
    assert "reject: 1" in digest.text_body
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert staff.send_digests(now + timedelta(days=1)) == 1  # the next day
    db.session.commit()
    assert len(outbox("daily_digest")) == 2


def test_poll_shares_outside_a_day_befores_interval_alert_editors_once(
    app, make_article, make_user
):
    editor = _staff(make_user, "editor", poll_shift_alerts=True)
    _staff(make_user, "editor")  # asked for nothing
    article = make_article(poll=True)
    poll = article.poll
    yes, no, later_ = poll.options
    now = utcnow()
    db.session.add(
        PollShareSnapshot(
            poll_id=poll.id,
            taken_at=now - timedelta(hours=25),
            votes={str(yes.id): 50, str(no.id): 50, str(later_.id): 0},
        )
    )
    yes.vote_count, no.vote_count = 52, 48  # within the interval of a day before
    db.session.commit()
    assert staff.check_polls(now) == 0
    db.session.commit()

    yes.vote_count, no.vote_count = 90, 10
    db.session.commit()
    assert staff.check_polls(now + timedelta(minutes=5)) == 1
    db.session.commit()
    [alert] = outbox("poll_shift")
    assert alert.to_address == editor.email
    assert "Yes: 90.0 % now" in alert.text_body
    assert f"https://news.example/editor/articles/{article.id}/results" in alert.text_body
    assert staff.check_polls(now + timedelta(minutes=10)) == 0  # the same crossing
    db.session.commit()
    assert len(outbox("poll_shift")) == 1


def test_shifted_options_needs_enough_votes_on_both_days():
    assert staff.shifted_options({"1": 5, "2": 5}, {"1": 9, "2": 1}, minimum=30) == []
    moved = staff.shifted_options({"1": 50, "2": 50}, {"1": 90, "2": 10}, minimum=30)
    assert [option for option, *_ in moved] == ["1", "2"]
    assert staff.shifted_options({"1": 50, "2": 50}, {"1": 55, "2": 45}, minimum=30) == []


def test_votes_set_aside_alert_editors_once_per_decision(app, make_article, make_user):
    editor = _staff(make_user, "editor", set_aside_alerts=True)
    article = make_article(poll=True)
    db.session.add(
        ModerationAction(actor_id=editor.id, action="set_aside_votes", details={"votes": 3})
    )
    db.session.commit()
    assert staff.check_set_asides() == 0  # the first pass notes where the log is
    db.session.commit()
    db.session.add(
        ModerationAction(
            actor_id=editor.id,
            action="set_aside_votes",
            reason="A burst from one network",
            details={
                "votes": 40,
                "article_id": article.id,
                "article_slug": article.slug,
                "automatic": True,
            },
        )
    )
    db.session.commit()
    assert staff.check_set_asides() == 1
    db.session.commit()
    assert staff.check_set_asides() == 0
    [alert] = outbox("set_aside")
    assert "40 votes on" in alert.text_body and "by the integrity checks" in alert.text_body
    assert f"https://news.example/editor/articles/{article.id}/integrity" in alert.text_body
