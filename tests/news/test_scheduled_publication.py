"""Scheduled publication: an article published for a time ahead is not public before
it (page, lists, feed, API, neighbours) and shows once its time has come, with no
background job: every read compares with its own now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.conftest import days_ago


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _schedule(article, when: datetime) -> None:  # type: ignore[no-untyped-def]
    from webapp.extensions import db

    article.published_at = when
    db.session.commit()


def test_a_scheduled_article_is_hidden_everywhere_until_its_time(api, make_article):
    live = make_article("Already out", published_at=days_ago(1), labels=["Asia"])
    later = make_article("Coming tomorrow", labels=["Asia"])
    _schedule(later, datetime.now(UTC) + timedelta(days=1))

    assert api.get(f"/articles/{later.slug}").status_code == 404
    assert api.get(f"/api/v1/articles/{later.slug}").status_code == 404
    for path in ("/", "/labels/asia", "/feed.atom"):
        page = text(api.get(path))
        assert "Already out" in page and "Coming tomorrow" not in page, path
    listed = api.get("/api/v1/articles").get_json()["items"]
    assert [item["slug"] for item in listed] == [live.slug]
    assert listed[0]["next"] is None  # the scheduled one is nobody's neighbour yet
    assert "Next post" not in text(api.get(f"/articles/{live.slug}"))


def test_a_scheduled_article_appears_once_its_time_has_passed(api, make_article):
    make_article("Already out", published_at=days_ago(1))
    due = make_article("Due a moment ago")
    _schedule(due, datetime.now(UTC) + timedelta(days=1))
    assert "Due a moment ago" not in text(api.get("/"))
    # Its time comes (moved back rather than waiting): the next read shows it, though
    # the same cached list statement answers.
    _schedule(due, datetime.now(UTC) - timedelta(seconds=1))
    assert "Due a moment ago" in text(api.get("/"))
    assert api.get("/api/v1/articles").get_json()["items"][0]["slug"] == due.slug
    assert api.get(f"/articles/{due.slug}").status_code == 200


def test_scheduling_from_the_editor_form(api, make_user, make_article):
    from webapp.extensions import db
    from webapp.models import Article

    api.login(make_user(role="editor"))
    ahead = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    response = api.form(
        "/editor/articles/new",
        {
            "title": "The election result",
            "body": "Counting is over.",
            "comments": "open",
            "poll_results_visibility": "always",
            "publish_at": ahead.strftime("%Y-%m-%dT%H:%M"),
            "action": "publish",
        },
    )
    assert response.status_code == 302
    article = db.session.query(Article).filter_by(title="The election result").one()
    assert article.status == "published" and article.published_at == ahead
    assert article.is_scheduled and not article.is_published
    edit = text(api.get(response.headers["Location"]))
    assert "Scheduled: readers see it from" in edit
    assert re.search(r'name="publish_at"[^>]*value="' + ahead.strftime("%Y-%m-%dT%H:%M"), edit)
    # An editor sees the page (marked as scheduled); a reader does not.
    assert "Scheduled: readers see it from" in text(api.get(f"/articles/{article.slug}"))


def test_a_time_already_past_is_refused_next_to_its_field(api, make_user):
    api.login(make_user(role="editor"))
    response = api.form(
        "/editor/articles/new",
        {
            "title": "Backdated",
            "body": "Text.",
            "comments": "open",
            "poll_results_visibility": "always",
            "publish_at": "2020-01-01T10:00",
            "action": "publish",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="publish_at-error">a time still ahead', page)
    assert 'value="2020-01-01T10:00"' in page  # what was typed stays


def test_publish_now_brings_a_scheduled_article_forward(app, make_article):
    from webapp.extensions import db
    from webapp.services import articles

    article = make_article("Brought forward")
    _schedule(article, datetime.now(UTC) + timedelta(days=3))
    articles.publish(article)
    db.session.commit()
    assert article.is_published
    assert article.published_at <= datetime.now(UTC)


def test_the_service_refuses_a_schedule_in_the_past():
    from webapp.services.articles import ArticleChanges, validate_changes

    past = ArticleChanges(status="published", publish_at=datetime.now(UTC) - timedelta(hours=1))
    assert "publish_at" in validate_changes(past, creating=False)
    naive = ArticleChanges(status="published", publish_at=datetime(2999, 1, 1))
    assert validate_changes(naive, creating=False)["publish_at"] == "a time with its time zone"


def test_a_scheduled_article_counts_in_no_topic_until_its_time(api, make_article):
    make_article("Out now", labels=["Harbour"], published_at=days_ago(1))
    later = make_article("Out later", labels=["Harbour", "Tides"])
    _schedule(later, datetime.now(UTC) + timedelta(hours=3))
    page = text(api.get("/topics"))
    assert '<span class="topic-count">1 article</span>' in page
    assert "Tides" not in page
    assert "Out later" not in text(api.get("/labels/harbour/feed.atom"))


def test_a_scheduled_articles_poll_and_comments_take_nothing_before_its_time(
    api, make_article, make_user
):
    """Knowing the slug is not enough: before its time a scheduled article's poll is not
    found, takes no vote, and its thread takes no comment, through the API as through
    the page."""
    later = make_article("Coming tomorrow", poll=("Will it hold?", ["Yes", "No"]))
    _schedule(later, datetime.now(UTC) + timedelta(days=1))
    option_id = later.poll.options[0].id

    assert api.get(f"/api/v1/articles/{later.slug}/poll").status_code == 404
    assert api.get(f"/api/v1/articles/{later.slug}/poll/results").status_code == 404
    vote = api.post(f"/api/v1/articles/{later.slug}/poll/votes", {"option_id": option_id})
    assert vote.status_code == 404, vote.get_json()
    api.login(make_user())
    comment = api.post(f"/api/v1/articles/{later.slug}/comments", {"body": "First!"})
    assert comment.status_code == 404, comment.get_json()

    _schedule(later, datetime.now(UTC) - timedelta(minutes=1))
    assert api.get(f"/api/v1/articles/{later.slug}/poll").status_code == 200
    vote = api.post(f"/api/v1/articles/{later.slug}/poll/votes", {"option_id": option_id})
    assert vote.status_code == 201, vote.get_json()
    comment = api.post(f"/api/v1/articles/{later.slug}/comments", {"body": "Now it's out."})
    assert comment.status_code == 201, comment.get_json()
