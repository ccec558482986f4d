"""The overview's trend, a label's polls followed one answer at a time, a page at a
time (issue 15): a label gathers polls for as long as the question runs, so the page
shows the latest TREND_POINTS with a link to the ones before, and the CSV holds them all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from webapp.services import insights, polls

START = datetime(2026, 1, 1, 9, tzinfo=UTC)
#: More polls than the trend shows at once, and a page and a bit more.
POLLS = insights.TREND_POINTS + 7
_ROW = re.compile(r'<th scope="row"><a href="/editor/articles/(\d+)/results">')
_EARLIER = re.compile(r'<a href="([^"]+)">Earlier polls</a>')


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client


@pytest.fixture
def running_question(db, make_article, make_user):
    """POLLS published polls labelled Ceasefire, one a day, with a vote for "Yes" on
    every third; two published on the same day (the id breaks the tie); and a draft
    and a poll of another label, which the trend leaves out."""
    editor = make_user("editor")
    made = []
    for n in range(POLLS):
        day = START + timedelta(days=n if n != POLLS - 1 else n - 1)
        article = make_article(
            f"Day {n}", author=editor, poll=True, labels=["Ceasefire"], published_at=day
        )
        if n % 3 == 0:
            yes = article.poll.options[0]
            polls.cast_vote(article.poll, polls.Voter(f"a:{n}", None), yes.id)
        made.append(article)
    make_article("Draft", author=editor, poll=True, labels=["Ceasefire"], status="draft")
    make_article("Elsewhere", author=editor, poll=True, labels=["Elections"], published_at=START)
    db.session.commit()
    return made


def _trend_rows(page: str) -> list[int]:
    return [int(found) for found in _ROW.findall(page.split('aria-labelledby="trend-title"', 1)[1])]


def test_the_service_pages_back_from_the_latest_without_repeating(running_question):
    newest_first = sorted(running_question, key=lambda a: (a.published_at, a.id), reverse=True)
    seen: list[int] = []
    before = None
    for _ in range(5):
        page = insights.recent_trend("ceasefire", " YES ", limit=10, before=before)
        # Each page in publication order, and the pages going back in time.
        assert [p.published_at for p in page.points] == sorted(p.published_at for p in page.points)
        seen = [p.article_id for p in page.points] + seen
        before = page.earlier_key
        if before is None:
            break
    assert seen == [a.id for a in reversed(newest_first)]
    assert seen == [p.article_id for p in insights.option_trend("ceasefire", "yes")]


def test_the_overview_shows_the_latest_polls_and_links_to_the_ones_before(editor, running_question):
    ordered = sorted(running_question, key=lambda a: (a.published_at, a.id))
    response = editor.client.get("/editor/overview?label=ceasefire&option=Yes")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    latest = ordered[-insights.TREND_POINTS :]
    assert _trend_rows(page) == [a.id for a in latest]
    assert f"{insights.TREND_POINTS} polls labelled Ceasefire" in page
    assert "Every poll&#39;s figures (CSV)" in page or "Every poll's figures (CSV)" in page

    earlier = _EARLIER.search(page)
    assert earlier is not None
    before = editor.client.get(earlier.group(1).replace("&amp;", "&"))
    earlier_page = before.get_data(as_text=True)
    assert _trend_rows(earlier_page) == [a.id for a in ordered[: -insights.TREND_POINTS]]
    assert _EARLIER.search(earlier_page) is None
    assert f"Latest {insights.TREND_POINTS} polls" in earlier_page

    # The CSV holds every poll, whatever page the overview shows.
    csv = editor.client.get("/editor/overview/trend.csv?label=ceasefire&option=Yes")
    assert csv.get_data(as_text=True).count("\n") == POLLS + 1


def test_a_trend_cursor_is_good_for_its_own_label_and_answer_only(editor, running_question):
    page = editor.client.get("/editor/overview?label=ceasefire&option=Yes").get_data(as_text=True)
    earlier = _EARLIER.search(page)
    assert earlier is not None
    cursor = re.search(r"before=([^&\"#]+)", earlier.group(1)).group(1)
    other_answer = editor.client.get(f"/editor/overview?label=ceasefire&option=No&before={cursor}")
    assert other_answer.status_code == 400
    forged = editor.client.get("/editor/overview?label=ceasefire&option=Yes&before=abc.def")
    assert forged.status_code == 400


def test_labels_and_answers_on_offer_come_from_published_polls(running_question):
    assert insights.poll_labels() == [("ceasefire", "Ceasefire"), ("elections", "Elections")]
    assert insights.option_choices("ceasefire") == ["No", "Too early to tell", "Yes"]
