"""The editor's sentiment pages: the results page, its CSV figures and the overview."""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from datetime import UTC, datetime

import pytest

from tests.insight_data import D1, D2, add_comment, vote
from webapp.services import polls


def text(response) -> str:
    return response.get_data(as_text=True)


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(text(response))))


def main_of(page: str) -> str:
    return page.split('<main id="main"')[1].split("</main>")[0]


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client


@pytest.fixture
def article(db, make_user, make_article):
    """Yes: fan (+0.8 on D1, +0.4 on D2). No: critic (-0.6 on D2). No vote: quiet (0.0, D2).

    Published comments: 4, mean (0.8 + 0.4 - 0.6 + 0.0) / 4 = +0.15; 2 positive,
    1 neutral, 1 negative. Votes cast: D1 Yes 1; D2 No 1.
    """
    found = make_article("Will the truce last", poll=True)
    yes, no, _ = found.poll.options
    fan = make_user(name="Fan")
    critic = make_user(name="Critic")
    quiet = make_user(name="Quiet")
    vote(found.poll, fan, yes, D1)
    vote(found.poll, critic, no, D2)
    add_comment(db, found, fan, 0.8, "positive", D1)
    add_comment(db, found, fan, 0.4, "positive", D2)
    add_comment(db, found, critic, -0.6, "negative", D2)
    add_comment(db, found, quiet, 0.0, "neutral", D2)
    add_comment(db, found, quiet, -0.95, "negative", D2, status="pending")
    db.session.commit()
    return found


def test_results_page_shows_tone_by_label_by_day_and_by_vote(app, editor, article):
    app.config["SENTIMENT_MIN_GROUP_COMMENTS"] = 1  # every group shown (suppression: below)
    page = main_of(text(editor.get(f"/editor/articles/{article.id}/results")))
    assert "Comment tone" in page
    assert "<dd>4</dd>" in page  # published comments
    assert "+0.15" in page and "(positive)" in page
    # The distribution as a bar chart whose bars say what they are, and as a table.
    assert 'class="bar-chart"' in page
    assert "Positive, 2 (50%)" in page and "Negative, 1 (25%)" in page
    assert '<th scope="row">Positive</th><td class="numeric">2</td>' in page
    # The mean day by day, as a line chart and a table.
    assert "Mean tone of each day&#39;s comments" in page
    assert '<time datetime="2026-03-01">' in page and '<time datetime="2026-03-02">' in page
    assert "-0.07" in page  # D2: (0.4 - 0.6 + 0.0) / 3
    # Tone by poll answer, including those who did not vote.
    assert "Mean tone of comments by how their author voted" in page
    # Yes: 0.8 and 0.4, so 0.6 ± 1.96·√(0.08/2) = ±0.39; one comment has no interval.
    assert (
        '<th scope="row">Yes</th><td class="numeric">2</td>'
        '<td class="numeric">+0.60 (+0.21 to +0.99)</td>' in page
    )
    assert (
        '<th scope="row">No</th><td class="numeric">1</td>'
        '<td class="numeric">\N{MINUS SIGN}0.60</td>' in page
    )
    assert '<th scope="row">Did not vote</th><td class="numeric">1</td>' in page
    # The poll's own figures are still there.
    assert "Share of votes held by each option, day by day" in page
    assert "95% interval" in page


def test_results_page_quotes_the_most_positive_and_negative_comments(editor, article):
    page = main_of(text(editor.get(f"/editor/articles/{article.id}/results")))
    examples = page.split('id="examples-title"')[1]
    positive, negative = examples.split("Most negative")
    ids = re.findall(rf"/articles/{article.slug}#comment-(\d+)", examples)
    assert len(ids) == 3
    assert positive.index("Comment scored 0.8") < positive.index("Comment scored 0.4")
    assert "score +0.80 (positive)" in positive and "Fan" in positive
    assert "Comment scored -0.6" in negative and "Critic" in negative
    assert "-0.95" not in examples  # held for moderation: not an example


def test_results_pages_have_no_inline_style_or_script_and_charts_have_text(app, editor, article):
    app.config["SENTIMENT_MIN_GROUP_COMMENTS"] = 1
    page = main_of(text(editor.get(f"/editor/articles/{article.id}/results")))
    assert "style=" not in page
    assert "<script" not in page
    assert page.count('role="img"') >= 4
    assert page.count("<desc") >= 3
    assert "<title>Yes: +0.60 · 2 comments</title>" in page


def test_results_page_of_an_article_without_poll_shows_the_tone(
    editor, db, make_user, make_article
):
    found = make_article("No poll here")
    add_comment(db, found, make_user(), -0.5, "negative", D1)
    db.session.commit()
    response = editor.get(f"/editor/articles/{found.id}/results")
    assert response.status_code == 200
    page = main_of(text(response))
    assert "This article has no poll" in page
    assert "Tone by poll answer" not in page
    assert "-0.50" in page


def test_sentiment_csv_has_the_timeline_the_groups_and_the_shares(editor, article):
    base = f"/editor/articles/{article.id}/sentiment.csv"
    timeline = rows(editor.get(base))
    assert timeline == [
        [
            "date",
            "votes: Yes",
            "votes: No",
            "votes: Too early to tell",
            "votes",
            "comments",
            "mean_tone",
        ],
        ["2026-03-01", "1", "0", "0", "1", "1", "0.8000"],
        ["2026-03-02", "0", "1", "0", "1", "3", "-0.0667"],
    ]

    def interval(scores: list[float]) -> list[str]:
        """mean ± 1.96·s/√n, as the results page shows it, four places."""
        half = 1.96 * statistics.stdev(scores) / math.sqrt(len(scores))
        mean = statistics.fmean(scores)
        return [f"{mean - half:.4f}", f"{mean + half:.4f}"]

    assert rows(editor.get(base, query_string={"table": "tone"})) == [
        [
            "group",
            "comments",
            "mean_tone",
            "mean_tone_low",
            "mean_tone_high",
            "positive",
            "neutral",
            "negative",
        ],
        ["all comments", "4", "0.1500", *interval([0.8, 0.4, -0.6, 0.0]), "2", "1", "1"],
        ["voted: Yes", "2", "0.6000", *interval([0.8, 0.4]), "2", "0", "0"],
        # One score or none: no spread to measure, so no interval.
        ["voted: No", "1", "-0.6000", "", "", "0", "0", "1"],
        ["voted: Too early to tell", "0", "", "", "", "0", "0", "0"],
        ["did not vote", "1", "0.0000", "", "", "0", "1", "0"],
    ]
    low, high = polls.wilson_interval(1, 2)
    shares = rows(editor.get(base, query_string={"table": "shares"}))
    assert shares[0] == ["option", "votes", "share", "ci_low", "ci_high"]
    assert shares[1] == ["Yes", "1", "0.5000", f"{low:.4f}", f"{high:.4f}"]
    assert editor.get(base, query_string={"table": "nonsense"}).status_code == 404


def test_overview_lists_every_article_with_its_figures(editor, article, make_article):
    make_article("Quiet piece")
    make_article("Unfinished", status="draft", poll=True)
    response = editor.get("/editor/overview")
    assert response.status_code == 200
    page = main_of(text(response))
    assert "style=" not in page and "<script" not in page
    truce = page.split("Will the truce last</a></th>")[1].split("</tr>")[0]
    cells = re.findall(r'<td class="numeric">(.*?)</td>', truce)
    # Leader: a tie of one vote each goes to the first option, as on the results page.
    # Mean tone with its 95 % interval: 0.15 ± 1.96·√(((1.16 − 4·0.15²)/3)/4) = ±0.585.
    assert cells == ["Yes · 50%", "2", "4", "+0.15 (\N{MINUS SIGN}0.44 to +0.74)"]
    quiet = page.split("Quiet piece</a></th>")[1].split("</tr>")[0]
    assert "no poll" in quiet and "—" in quiet
    unfinished = page.split("Unfinished</a></th>")[1].split("</tr>")[0]
    assert "Draft" in unfinished and "no votes" in unfinished


def _order(page: str, titles: list[str]) -> list[str]:
    return sorted(titles, key=lambda title: page.index(f"{title}</a></th>"))


def _sort_link(page: str, column: str) -> str:
    found = re.search(rf'href="(/editor/overview\?sort={column}[^"]*)"', page)
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def test_overview_sorts_by_each_column_through_links(editor, article, make_article):
    make_article("Aardvark news", published_at=datetime(2020, 1, 1, tzinfo=UTC))
    titles = ["Will the truce last", "Aardvark news"]
    page = text(editor.get("/editor/overview"))
    # Newest first by default; the column says so to assistive technology.
    assert _order(page, titles) == ["Will the truce last", "Aardvark news"]
    assert re.search(
        r'<th scope="col" aria-sort="descending">\s*<a href="[^"]*sort=published', page
    )
    assert page.count('aria-sort="none"') == 5
    title_link = _sort_link(page, "title")
    by_title = text(editor.get(title_link))
    assert _order(by_title, titles) == ["Aardvark news", "Will the truce last"]
    assert 'aria-sort="ascending"' in by_title
    # Selecting the sorted column again reverses it.
    again = _sort_link(by_title, "title")
    assert "dir=desc" in again
    page = text(editor.get("/editor/overview?sort=comments&dir=asc"))
    assert _order(page, titles) == ["Aardvark news", "Will the truce last"]
    page = text(editor.get("/editor/overview?sort=tone&dir=desc"))
    assert _order(page, titles) == ["Will the truce last", "Aardvark news"]
    # Unknown values fall back to the default order instead of failing.
    assert editor.get("/editor/overview?sort=bogus&dir=sideways").status_code == 200


def test_overview_csv_has_every_article_in_the_chosen_order(editor, article, make_article):
    make_article("Aardvark news", published_at=datetime(2020, 1, 1, tzinfo=UTC))
    table = rows(editor.get("/editor/overview.csv?sort=title&dir=asc"))
    assert table[0] == [
        "title",
        "slug",
        "status",
        "published_at",
        "leader",
        "leader_share",
        "turnout",
        "comments",
        "mean_tone",
    ]
    assert [row[0] for row in table[1:]] == ["Aardvark news", "Will the truce last"]
    assert table[1][4:] == ["", "", "", "0", ""]
    assert table[2][4:] == ["Yes", "0.5000", "2", "4", "0.1500"]


@pytest.fixture
def ceasefire(db, make_article):
    """Two polls labelled Ceasefire: Yes 1 of 2 on 1 June, 2 of 2 on 8 June."""
    first = make_article(
        "First truce",
        poll=True,
        labels=["Ceasefire"],
        published_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    second = make_article(
        "Second truce",
        poll=True,
        labels=["Ceasefire"],
        published_at=datetime(2026, 6, 8, tzinfo=UTC),
    )
    for key, option in (("a:1", 0), ("a:2", 1)):
        polls.cast_vote(first.poll, polls.Voter(key, None), first.poll.options[option].id)
    for key in ("a:3", "a:4"):
        polls.cast_vote(second.poll, polls.Voter(key, None), second.poll.options[0].id)
    db.session.commit()


def test_overview_follows_one_answer_across_a_label(editor, ceasefire):
    page = main_of(text(editor.get("/editor/overview")))
    assert '<option value="ceasefire">Ceasefire</option>' in page
    assert "<polyline" not in page
    response = editor.get("/editor/overview?label=ceasefire&option=YES")
    page = main_of(text(response))
    assert '<option value="ceasefire" selected>' in page
    assert "Answers in this label's polls: No, Too early to tell, Yes." in page
    chart = page.split('<figure class="chart"')[1].split("</figure>")[0]
    assert "<polyline" in chart and 'class="whisker"' in chart
    assert "01 Jun 2026" in chart and "08 Jun 2026" in chart
    table = page.split("</figure>")[1]
    assert table.index("First truce") < table.index("Second truce")
    assert '<td class="numeric">50.0%</td>' in table and '<td class="numeric">100.0%</td>' in table
    assert "style=" not in page
    trend = rows(editor.get("/editor/overview/trend.csv?label=ceasefire&option=yes"))
    assert trend[0] == [
        "published_at",
        "title",
        "slug",
        "option",
        "votes",
        "turnout",
        "share",
        "ci_low",
        "ci_high",
    ]
    assert [(r[1], r[3], r[4], r[5], r[6]) for r in trend[1:]] == [
        ("First truce", "Yes", "1", "2", "0.5000"),
        ("Second truce", "Yes", "2", "2", "1.0000"),
    ]


def test_overview_says_when_no_poll_has_the_answer(editor, ceasefire):
    page = main_of(text(editor.get("/editor/overview?label=ceasefire&option=perhaps")))
    assert "has an answer reading “perhaps”" in page
    assert "<polyline" not in page


def test_dashboard_links_to_the_overview(editor):
    page = text(editor.get("/editor/"))
    assert 'href="/editor/overview"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/editor/overview",
        "/editor/overview.csv",
        "/editor/overview/trend.csv?label=x&option=y",
        "/editor/articles/{id}/results",
        "/editor/articles/{id}/sentiment.csv",
    ],
)
def test_insight_pages_are_for_editors_only(path, make_api, make_user, article):
    url = path.format(id=article.id)
    assert make_api().get(url).status_code == 401
    for role in ("reader", "moderator"):
        client = make_api()
        client.login(make_user(role))
        assert client.get(url).status_code == 403, role
    admin = make_api()
    admin.login(make_user("admin"))
    assert admin.get(url).status_code == 200


def test_pages_say_when_there_is_nothing_to_show_yet(editor, make_article):
    empty = make_article("Just published", poll=True)
    page = main_of(text(editor.get(f"/editor/articles/{empty.id}/results")))
    assert "No votes yet." in page
    assert "No votes or comments yet." in page
    assert "No positive comments." in page and "No negative comments." in page
    assert 'class="bar-chart"' not in page
    page = main_of(text(editor.get("/editor/overview")))
    assert "Just published" in page
    assert "No published article with a poll has a label yet." in page
