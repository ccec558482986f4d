"""Polls read right (issue 19): no leader in a tie, the uncertainty in words for
readers (the Wilson lines on the editor's page only), honest empty and one-day states
on the results pages, and wide tables in focusable scrolling regions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.insight_data import D1, D2, vote
from webapp.services import polls
from webapp.services.polls.results import OptionResult, PollResults, wilson_interval


def text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def results_part(page: str) -> str:
    return page.split('class="poll-results"')[1].split("</figure>")[0]


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client


def _option(option_id: int, votes: int, total: int) -> OptionResult:
    low, high = wilson_interval(votes, total)
    return OptionResult(option_id, f"Option {option_id}", votes, votes / total, low, high)


# --- the maths: a tie has no leader; the margin in whole points ----------------------------


def test_a_tie_has_no_leader_and_names_the_tied_options():
    tied = PollResults(
        total=20, options=[_option(1, 8, 20), _option(2, 8, 20), _option(3, 4, 20)], closed=False
    )
    assert tied.leader is None
    assert [o.id for o in tied.tied] == [1, 2]
    ahead = PollResults(
        total=20, options=[_option(1, 9, 20), _option(2, 8, 20), _option(3, 3, 20)], closed=False
    )
    assert ahead.leader is not None and ahead.leader.id == 1
    assert ahead.tied == []
    empty = PollResults(total=0, options=[], closed=False)
    assert empty.leader is None and empty.tied == []


def test_the_margin_in_points_is_the_largest_half_width_rounded():
    from webapp.services.polls.results import Methodology

    low, high = wilson_interval(300, 600)
    half = (high - low) / 2
    m = Methodology(counted=600, signed_in_share=0.0, margin_of_error=half, shares_shown=True)
    assert m.margin_points == round(half * 100) == 4
    # A tiny margin never reads as "± 0 points" (certainty); no votes: no margin.
    assert Methodology(10**6, 0.0, 0.0004, True).margin_points == 1
    assert Methodology(0, 0.0, 0.0, False).margin_points == 0


# --- the reader's results ----------------------------------------------------------------------


def test_readers_see_a_tie_without_a_painted_leader(app, api, make_article, make_user):
    app.config["POLL_MIN_VOTES_FOR_SHARES"] = 1
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    for option in (yes, yes, no, no):
        vote(article.poll, make_user(), option, datetime.now(UTC))
    from webapp.extensions import db

    db.session.commit()
    part = results_part(text(api.get(f"/articles/{article.slug}")))
    assert "bar-leader" not in part
    assert "A tie: “Yes” and “No” have 2 votes each." in part
    # One more vote for Yes: Yes leads and is painted so.
    vote(article.poll, make_user(), yes, datetime.now(UTC))
    db.session.commit()
    part = results_part(text(api.get(f"/articles/{article.slug}")))
    assert part.count("bar-leader") == 1 and "A tie" not in part


def test_readers_get_the_uncertainty_in_words_not_interval_lines(app, api, make_article, make_user):
    app.config["POLL_MIN_VOTES_FOR_SHARES"] = 1
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    for option in (yes, yes, yes, no):
        vote(article.poll, make_user(), option, datetime.now(UTC))
    from webapp.extensions import db

    db.session.commit()
    part = results_part(text(api.get(f"/articles/{article.slug}")))
    found = polls.results(article.poll)
    points = found.methodology.margin_points
    assert points > 0
    assert f"Each share could be about ± {points} points either way" in part
    assert "75% · 3 votes" in part and "25% · 1 vote" in part
    assert 'class="bar-ci"' not in part and "95% interval" not in part
    assert "Wilson interval" not in part


def test_readers_are_told_there_are_no_votes_yet_instead_of_zeros(api, make_article):
    article = make_article(poll=True)
    part = results_part(text(api.get(f"/articles/{article.slug}")))
    assert "No votes yet." in part
    assert "0 votes" not in part.split('<p class="help methodology">')[0]
    assert "bar-figures" not in part


# --- the editor's results page -------------------------------------------------------------------


def test_editor_keeps_the_interval_lines_and_tie_has_no_leader(
    app, editor, make_article, make_user
):
    app.config["POLL_MIN_VOTES_FOR_SHARES"] = 1
    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    for option in (yes, no):
        vote(article.poll, make_user(), option, datetime.now(UTC))
    from webapp.extensions import db

    db.session.commit()
    page = text(editor.get(f"/editor/articles/{article.id}/results"))
    assert 'class="bar-ci"' in page and "95% interval" in page
    assert "bar-leader" not in page
    assert "A tie: “Yes” and “No” have 1 vote each." in page


def test_editor_results_without_votes_say_so_with_no_table_of_zeros(editor, make_article):
    article = make_article(poll=True)
    page = text(editor.get(f"/editor/articles/{article.id}/results"))
    standing = page.split('id="standing-title"')[1].split("</section>")[0]
    assert "No votes yet." in standing
    assert "<table" not in standing
    tone = page.split('id="tone-title"')[1].split("</section>")[0]
    assert "No published comments yet." in tone and "<table" not in tone


def test_one_day_of_votes_gives_the_figures_and_no_lone_dot(app, editor, make_article, make_user):
    from webapp.extensions import db

    article = make_article(poll=True)
    yes, no, _ = article.poll.options
    vote(article.poll, make_user(), yes, D1)
    vote(article.poll, make_user(), no, D1)
    db.session.commit()
    page = text(editor.get(f"/editor/articles/{article.id}/results"))
    over_time = page.split('id="time-title"')[1].split("</section>")[0]
    assert "One day so far" in over_time
    assert "line-chart" not in over_time
    assert "01 Mar 2026" in over_time and "<table" in over_time
    # A second day draws the line chart.
    vote(article.poll, make_user(), yes, D2)
    db.session.commit()
    page = text(editor.get(f"/editor/articles/{article.id}/results"))
    over_time = page.split('id="time-title"')[1].split("</section>")[0]
    assert "line-chart" in over_time and "One day so far" not in over_time


def test_editor_tables_scroll_in_focusable_labelled_regions(app, editor, make_article, make_user):
    from webapp.extensions import db

    app.config["POLL_MIN_VOTES_FOR_SHARES"] = 1
    article = make_article(poll=True)
    vote(article.poll, make_user(), article.poll.options[0], D1)
    db.session.commit()
    page = text(editor.get(f"/editor/articles/{article.id}/results"))
    main = page.split('<main id="main"')[1].split("</main>")[0]
    # Every table of the page's own (the integrity panel is its own partial) sits in one.
    regions = re.findall(r'<div class="table-scroll"[^>]*>', main.split('id="integrity-title"')[0])
    assert regions
    for region in regions:
        assert 'role="region"' in region and 'tabindex="0"' in region
        assert re.search(r'aria-label="[^"]+"', region)


# --- charts on a phone ---------------------------------------------------------------------------


def test_bar_chart_columns_fit_their_text_and_names_keep_what_tells_bars_apart():
    from webapp.charts import CHAR_UNITS, bar_chart

    integrity = bar_chart(
        "Share of each answer",
        [
            ("Yes, the ceasefire will hold · counted", 40.0),
            ("Yes, the ceasefire will hold · all stored", 45.0),
            ("No · counted", 10.0),
        ],
        texts=["40.0%", "45.0%", "10.0%"],
        x_max=100,
    )
    names = [bar.short for bar in integrity.bars]
    assert names[0].endswith("… · counted") and names[1].endswith("… · all stored")
    assert names[2] == "No · counted"
    by_vote = bar_chart(
        "Mean tone by answer",
        [("Yes, the ceasefire will hold", 0.2), ("Did not vote", 0.0)],
        texts=["+0.20 · 12 comments", "2 comments: too few to show tone"],
        x_min=-1.0,
        x_max=1.0,
    )
    for chart in (integrity, by_vote):
        # Every drawn name and figure fits its column at phone text size.
        assert all(len(bar.short) * CHAR_UNITS <= chart.left - 10 for bar in chart.bars)
        right_column = chart.width - chart.text_x
        assert all(len(bar.text) * CHAR_UNITS <= right_column for bar in chart.bars)
        assert chart.plot_width >= 160
