"""The Reported queue through the API and the moderation pages: one report is enough to
reach moderators, the most-reported comments come first, and the count in the
navigation is the count of the list."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def moderator(make_api, make_user):
    client = make_api()
    client.login(make_user(role="moderator", name="Mod"))
    return client


def _reporter(make_api, make_user):
    client = make_api()
    client.login(make_user())
    return client


def _comment(db, article, author, body):
    from webapp.services import comments

    comment = comments.submit(article, author, body)
    db.session.commit()
    return comment


def test_one_report_through_the_api_reaches_the_queue_and_the_navigation(
    db, make_article, make_user, make_api, moderator
):
    article = make_article(title="Ceasefire talks")
    comment = _comment(db, article, make_user(), "Reported once, by one reader.")
    reporter = _reporter(make_api, make_user)
    answer = reporter.post(f"/api/v1/comments/{comment.id}/flags", {"reason": "abuse"})
    assert answer.status_code == 201

    listed = moderator.get("/api/v1/moderation/queue?status=reported").get_json()
    [item] = listed["items"]
    assert item["id"] == comment.id and item["status"] == "published"
    assert item["flags"] == [{"reason": "abuse", "count": 1}]
    assert item["open_reports"] == 1 and item["reported_at"]
    assert listed["counts"]["reported"] == 1

    page = moderator.get("/moderation/queue/reported").get_data(as_text=True)
    assert "Reported once, by one reader." in page
    assert re.search(r'count-reported" title="reported">1<', page)  # the navigation
    assert "1 reader since the last decision" in page


def test_one_report_through_the_page_reaches_the_queue(
    db, make_article, make_user, make_api, moderator
):
    article = make_article()
    comment = _comment(db, article, make_user(), "Reported from the page.")
    reporter = _reporter(make_api, make_user)
    sent = reporter.form(f"/comments/{comment.id}/report", {"reason": "spam", "note": "an ad"})
    assert sent.status_code == 302
    [item] = moderator.get("/api/v1/moderation/queue?status=reported").get_json()["items"]
    assert item["id"] == comment.id
    assert item["report_notes"] == [{"reason": "spam", "note": "an ad"}]


def test_the_api_lists_most_reporters_first_then_the_longest_waiting(
    db, make_article, make_user, make_api, moderator
):
    article = make_article()
    author = make_user()
    once = _comment(db, article, author, "Reported first, by one reader.")
    twice = _comment(db, article, author, "Reported later, by two readers.")
    later_once = _comment(db, article, author, "Reported last, by one reader.")
    for comment, readers in ((once, 1), (twice, 2), (later_once, 1)):
        for _ in range(readers):
            reporter = _reporter(make_api, make_user)
            reporter.post(f"/api/v1/comments/{comment.id}/flags", {"reason": "spam"})
    first = moderator.get("/api/v1/moderation/queue?status=reported&limit=2").get_json()
    assert [i["id"] for i in first["items"]] == [twice.id, once.id]
    assert [i["open_reports"] for i in first["items"]] == [2, 1]
    rest = moderator.get(
        f"/api/v1/moderation/queue?status=reported&limit=2&cursor={first['next_cursor']}"
    ).get_json()
    assert [i["id"] for i in rest["items"]] == [later_once.id] and rest["next_cursor"] is None
    page = moderator.get("/moderation/queue/reported").get_data(as_text=True)
    positions = [page.index(f'id="item-{c.id}"') for c in (twice, once, later_once)]
    assert positions == sorted(positions)


def test_a_decision_takes_the_comment_out_of_the_queue_and_the_count(
    db, make_article, make_user, make_api, moderator
):
    article = make_article()
    comment = _comment(db, article, make_user(), "Fine after all.")
    _reporter(make_api, make_user).post(f"/api/v1/comments/{comment.id}/flags", {"reason": "spam"})
    decided = moderator.post(f"/api/v1/moderation/comments/{comment.id}", {"action": "approve"})
    assert decided.status_code == 200 and decided.get_json()["reported_at"] is None
    listed = moderator.get("/api/v1/moderation/queue?status=reported").get_json()
    assert listed["items"] == [] and listed["counts"]["reported"] == 0


def test_new_accounts_setting_on_the_settings_page_and_the_api(moderator):
    page = moderator.get("/moderation/settings").get_data(as_text=True)
    assert 'name="new_account_hours" value="24"' in page
    saved = moderator.form(
        "/moderation/settings",
        {
            "toxicity_threshold": "0.8",
            "max_links": "2",
            "new_author_hold_count": "0",
            "recent_rejections_limit": "3",
            "rejection_window_days": "30",
            "report_threshold": "3",
            "new_account_hours": "72",
        },
    )
    assert saved.status_code == 302
    assert 'name="new_account_hours" value="72"' in moderator.get("/moderation/settings").get_data(
        as_text=True
    )
    refused = moderator.form("/moderation/settings", {"new_account_hours": "-1"})
    assert refused.status_code == 422
    assert "between 0 and 8760" in refused.get_data(as_text=True)
    answer = moderator.patch("/api/v1/moderation/settings", {"new_account_hours": 12})
    assert answer.status_code == 200 and answer.get_json()["new_account_hours"] == 12
    bad = moderator.patch("/api/v1/moderation/settings", {"new_account_hours": "soon"})
    assert bad.status_code == 400  # a wrong type, as for every setting
