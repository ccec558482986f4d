"""GET /api/v1/articles/{slug}/sentiment, as the contract's Sentiment section fixes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.insight_data import D1, D2, add_comment, vote
from webapp.models import utcnow

CONTRACT_KEYS = {"poll", "comments", "by_vote", "timeline"}
TONE_KEYS = {"count", "mean", "positive", "neutral", "negative"}
# Added beside the contract's fields (issue 17): the mean's 95 % interval, and whether a
# poll answer's group is too small to show its tone.
TRUST_KEYS = {"interval"}
GROUP_KEYS = {"interval", "suppressed"}


def _url(article) -> str:
    return f"/api/v1/articles/{article.slug}/sentiment"


@pytest.fixture
def discussed(db, make_user, make_article):
    """Two voters who comment: Yes +0.5 (D1), No -0.7 and -0.1 (D2); a non-voter 0.0 (D2)."""
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    fan, sceptic, bystander = make_user(), make_user(), make_user()
    vote(article.poll, fan, yes, D1)
    vote(article.poll, sceptic, no, D2)
    add_comment(db, article, fan, 0.5, "positive", D1)
    add_comment(db, article, sceptic, -0.7, "negative", D2)
    add_comment(db, article, sceptic, -0.1, "negative", D2)
    add_comment(db, article, bystander, 0.0, "neutral", D2)
    add_comment(db, article, bystander, 0.9, "positive", D2, status="pending")
    db.session.commit()
    return article


def test_answer_has_the_contracts_shape_and_numbers(api, discussed):
    response = api.get(_url(discussed))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= CONTRACT_KEYS
    yes, no, early = (o.id for o in discussed.poll.options)

    poll = body["poll"]
    assert set(poll) == {"total", "options", "closed", "set_aside", "methodology"}
    assert poll["total"] == 2 and poll["closed"] is False and poll["set_aside"] == 0
    assert [(o["id"], o["votes"], o["share"]) for o in poll["options"]] == [
        (yes, 1, 0.5),
        (no, 1, 0.5),
        (early, 0, 0.0),
    ]
    assert set(poll["options"][0]) == {"id", "label", "votes", "share", "ci_low", "ci_high"}
    assert api.get(f"/api/v1/articles/{discussed.slug}/poll/results").get_json() == poll

    comments = body["comments"]
    assert set(comments) == TONE_KEYS | TRUST_KEYS
    assert (comments["count"], comments["positive"], comments["neutral"]) == (4, 1, 1)
    assert comments["negative"] == 2
    assert comments["mean"] == pytest.approx((0.5 - 0.7 - 0.1 + 0.0) / 4)

    by_vote = body["by_vote"]
    assert set(by_vote) == {str(yes), str(no), str(early)}
    assert by_vote[str(yes)] == {
        "count": 1,
        "mean": pytest.approx(0.5),
        "positive": 1,
        "neutral": 0,
        "negative": 0,
        "interval": None,
        "suppressed": True,
    }
    assert by_vote[str(no)]["count"] == 2
    assert by_vote[str(no)]["mean"] == pytest.approx(-0.4)
    assert by_vote[str(early)] == {
        "count": 0,
        "mean": 0.0,
        "positive": 0,
        "neutral": 0,
        "negative": 0,
        "interval": None,
        "suppressed": True,
    }
    assert body["no_vote"]["count"] == 1 and body["no_vote"]["neutral"] == 1

    timeline = body["timeline"]
    assert [day["date"] for day in timeline] == ["2026-03-01", "2026-03-02"]
    assert timeline[0] == {
        "date": "2026-03-01",
        "votes": {str(yes): 1, str(no): 0, str(early): 0},
        "comments": 1,
        "mean": pytest.approx(0.5),
    }
    assert timeline[1]["votes"] == {str(yes): 0, str(no): 1, str(early): 0}
    assert timeline[1]["comments"] == 3
    assert timeline[1]["mean"] == pytest.approx(-0.8 / 3)


def test_article_without_poll_answers_anyone_with_poll_null(api, db, make_user, make_article):
    article = make_article()
    add_comment(db, article, make_user(), -0.3, "negative", D1)
    db.session.commit()
    body = api.get(_url(article)).get_json()
    assert body["poll"] is None
    assert body["by_vote"] == {}
    assert body["comments"]["count"] == 1
    assert body["comments"]["mean"] == pytest.approx(-0.3)
    assert body["timeline"] == [
        {"date": "2026-03-01", "votes": {}, "comments": 1, "mean": pytest.approx(-0.3)}
    ]


def test_article_without_comments_has_mean_zero(api, make_article):
    body = api.get(_url(make_article(poll=True))).get_json()
    assert body["comments"] == {
        "count": 0,
        "mean": 0.0,
        "positive": 0,
        "neutral": 0,
        "negative": 0,
        "interval": None,
    }
    assert body["timeline"] == []


def test_unknown_and_unpublished_articles_are_404_but_editors_see_drafts(
    api, make_api, make_user, make_article
):
    assert api.get("/api/v1/articles/no-such-thing/sentiment").status_code == 404
    draft = make_article(poll=True, status="draft")
    response = api.get(_url(draft))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    editor = make_api()
    editor.login(make_user("editor"))
    assert editor.get(_url(draft)).status_code == 200


def _vote(client, article, option_id: int):
    return client.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": option_id})


def _hidden(response) -> bool:
    return response.status_code == 403 and response.get_json()["error"]["code"] == "results_hidden"


def test_results_after_vote_are_hidden_until_the_visitor_votes(
    api, make_api, make_user, make_article
):
    article = make_article(poll={"results_visibility": "after_vote"})
    assert _hidden(api.get(_url(article)))
    reader = make_api()
    reader.login(make_user())
    assert _hidden(reader.get(_url(article)))
    yes = article.poll.options[0].id
    assert (
        reader.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": yes}).status_code
        == 201
    )
    assert reader.get(_url(article)).status_code == 200
    for role in ("editor", "moderator", "admin"):
        staff = make_api()
        staff.login(make_user(role))
        assert staff.get(_url(article)).status_code == 200, role


def test_an_anonymous_voter_sees_results_after_voting(api, make_article):
    article = make_article(poll={"results_visibility": "after_vote", "allow_anonymous": True})
    assert _hidden(api.get(_url(article)))
    yes = article.poll.options[0].id
    assert (
        api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": yes}).status_code
        == 201
    )
    assert api.get(_url(article)).status_code == 200


def test_results_after_close_stay_hidden_from_voters_until_the_poll_closes(
    api, make_api, make_user, make_article, db
):
    article = make_article(poll={"results_visibility": "after_close"})
    reader = make_api()
    reader.login(make_user())
    yes = article.poll.options[0].id
    assert (
        reader.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": yes}).status_code
        == 201
    )
    assert _hidden(reader.get(_url(article)))
    assert _hidden(api.get(_url(article)))
    moderator = make_api()
    moderator.login(make_user("moderator"))
    assert moderator.get(_url(article)).status_code == 200

    article.poll.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert reader.get(_url(article)).status_code == 200
    body = api.get(_url(article)).get_json()
    assert body["poll"]["closed"] is True and body["poll"]["total"] == 1


def test_closed_poll_with_results_after_close_is_visible_to_everyone(api, make_article):
    article = make_article(
        poll={
            "results_visibility": "after_close",
            "closes_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )
    assert api.get(_url(article)).status_code == 200
