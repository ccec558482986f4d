"""Results say what kind of number they are (issue 16): every answer that carries a
poll's results (GET results, the vote answer, the sentiment API's ``poll``) counts only
votes not set aside, says how many were set aside, and carries the methodology: the
counted votes, the share from signed-in readers, the margin of error (the largest
Wilson half-width, as a share) and whether there are enough votes for shares. The
article page shows the same facts to readers in one line under the results, and below
POLL_MIN_VOTES_FOR_SHARES counted votes shows counts without percentages or bars."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from webapp.models import Vote, utcnow
from webapp.services.polls import wilson_interval


def _add_votes(db, poll, option, count: int, *, users=(), set_aside: bool = False) -> None:
    """``count`` votes for ``option`` by plain SQL (the tallies follow by triggers): the
    given accounts' first, then anonymous ones; set aside when asked."""
    now = utcnow()
    rows = []
    for n in range(count):
        user = users[n] if n < len(users) else None
        rows.append(
            {
                "poll_id": poll.id,
                "option_id": option.id,
                "voter_key": f"u:{user.id}" if user else f"a:{uuid.uuid4().hex}",
                "user_id": user.id if user else None,
                "created_at": now,
                "updated_at": now,
                "set_aside_at": now if set_aside else None,
            }
        )
    db.session.execute(sa.insert(Vote), rows)
    db.session.commit()


@pytest.fixture
def brigaded(db, make_article, make_user):
    """30 "Yes" (4 from accounts) and 10 "No" counted; 25 "No" set aside."""
    article = make_article(poll={"allow_anonymous": True})
    yes, no, _ = article.poll.options
    _add_votes(db, article.poll, yes, 30, users=[make_user() for _ in range(4)])
    _add_votes(db, article.poll, no, 10)
    _add_votes(db, article.poll, no, 25, set_aside=True)
    return article


def _expected_margin(counts: list[int]) -> float:
    total = sum(counts)
    return max((high - low) / 2 for low, high in (wilson_interval(c, total) for c in counts))


def test_results_count_only_counted_votes_and_carry_the_methodology(api, brigaded):
    body = api.get(f"/api/v1/articles/{brigaded.slug}/poll/results").get_json()
    assert body["total"] == 40
    assert [o["votes"] for o in body["options"]] == [30, 10, 0]
    assert body["options"][0]["share"] == 0.75
    assert body["set_aside"] == 25
    assert body["methodology"] == {
        "counted": 40,
        "signed_in_share": 0.1,
        "margin_of_error": pytest.approx(_expected_margin([30, 10, 0])),
        "shares_shown": True,
    }
    # The largest half-width is the 75 % answer's: about ±13 points at 40 votes.
    assert 0.12 < body["methodology"]["margin_of_error"] < 0.14


def test_the_vote_answer_and_the_sentiment_answer_carry_the_same_facts(
    make_api, make_user, brigaded
):
    reader = make_api()
    reader.login(make_user())
    slug = brigaded.slug
    answer = reader.post(
        f"/api/v1/articles/{slug}/poll/votes", {"option_id": brigaded.poll.options[1].id}
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["total"] == 41 and body["set_aside"] == 25
    assert body["methodology"]["counted"] == 41
    assert body["methodology"]["shares_shown"] is True
    assert body["methodology"]["margin_of_error"] == pytest.approx(_expected_margin([30, 11, 0]))

    results = reader.get(f"/api/v1/articles/{slug}/poll/results").get_json()
    sentiment = reader.get(f"/api/v1/articles/{slug}/sentiment").get_json()["poll"]
    assert sentiment == results
    assert results["methodology"]["signed_in_share"] == pytest.approx(5 / 41)


def test_below_the_minimum_the_api_keeps_its_numbers_and_says_shares_are_not_shown(
    api, db, make_article
):
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    _add_votes(db, article.poll, yes, 20)
    _add_votes(db, article.poll, no, 9)
    body = api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()
    assert body["total"] == 29
    assert body["options"][0]["share"] == pytest.approx(20 / 29)
    assert body["options"][0]["ci_low"] > 0
    assert body["set_aside"] == 0
    assert body["methodology"]["shares_shown"] is False
    assert body["methodology"]["signed_in_share"] == 0

    _add_votes(db, article.poll, no, 1)  # the 30th
    body = api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()
    assert body["methodology"]["shares_shown"] is True


def test_a_poll_without_votes_has_an_empty_methodology(api, make_article):
    article = make_article(poll=True)
    body = api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()
    assert body["set_aside"] == 0
    assert body["methodology"] == {
        "counted": 0,
        "signed_in_share": 0,
        "margin_of_error": 0,
        "shares_shown": False,
    }


def test_the_minimum_is_the_setting(app, api, db, make_article):
    app.config["POLL_MIN_VOTES_FOR_SHARES"] = 3
    article = make_article(poll=True)
    _add_votes(db, article.poll, article.poll.options[0], 3)
    body = api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()
    assert body["methodology"]["shares_shown"] is True


def test_setting_votes_aside_lowers_the_results_at_once(api, db, brigaded):
    from webapp.services import polls

    url = f"/api/v1/articles/{brigaded.slug}/poll/results"
    assert api.get(url).get_json()["total"] == 40
    db.session.execute(
        sa.update(Vote)
        .where(
            Vote.poll_id == brigaded.poll.id, Vote.user_id.is_(None), Vote.set_aside_at.is_(None)
        )
        .values(set_aside_at=utcnow())
    )
    db.session.commit()
    polls.forget_cached(brigaded.slug)  # what a decision does after its commit
    body = api.get(url).get_json()
    assert body["total"] == 4 and body["set_aside"] == 61
    assert body["methodology"] == {
        "counted": 4,
        "signed_in_share": 1.0,
        "margin_of_error": pytest.approx(_expected_margin([4, 0, 0])),
        "shares_shown": False,
    }


# --- the article page ------------------------------------------------------------------------


def _page(api, article) -> str:
    response = api.get(f"/articles/{article.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _methodology(page: str) -> str:
    found = re.search(r'<p class="help methodology">(.*?)</p>', page, re.S)
    assert found, "no methodology line"
    return " ".join(found.group(1).split())


def test_the_page_says_what_kind_of_number_the_results_are(api, brigaded):
    page = _page(api, brigaded)
    margin = _expected_margin([30, 10, 0]) * 100
    assert _methodology(page) == (
        "40 votes counted · readers chose to take part: not a scientific survey · "
        f"margin of error ±{margin:.1f} points · 10% from signed-in readers · "
        "25 set aside by integrity checks"
    )
    # The figures are the counted votes; the bars and percentages are there.
    assert "40 votes" in page and "75% · 30 votes" in page and "25% · 10 votes" in page
    assert 'class="bar-track"' in page
    assert "No percentages or bars" not in page


def test_below_the_minimum_the_page_shows_counts_only_and_says_why(api, db, make_article):
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    _add_votes(db, article.poll, yes, 2)
    _add_votes(db, article.poll, no, 1)
    _add_votes(db, article.poll, no, 4, set_aside=True)
    page = _page(api, article)
    results = page.split('class="poll-results"')[1].split("</figure>")[0]
    assert '<span class="bar-figures">2 votes</span>' in results
    assert '<span class="bar-figures">1 vote</span>' in results
    assert "%" not in results.split('<p class="help methodology">')[0]
    assert "bar-track" not in results and "<svg" not in results
    assert "No percentages or bars until 30 votes are counted" in results
    assert 'aria-label="Poll results: votes per answer"' in results
    assert _methodology(page) == (
        "3 votes counted · readers chose to take part: not a scientific survey · "
        "0% from signed-in readers · 4 set aside by integrity checks"
    )


def test_a_poll_without_votes_says_so_plainly(api, make_article):
    article = make_article(poll=True)
    assert _methodology(_page(api, article)) == (
        "0 votes counted · readers chose to take part: not a scientific survey · "
        "0 set aside by integrity checks"
    )
