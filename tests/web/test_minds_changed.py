"""The editor's "Minds changed" (issue 20): the flow chart, its table, the day-by-day
table and the CSV show the same moves; only editors and admins see them."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from webapp.services import polls

SVG = "{http://www.w3.org/2000/svg}"
DAY1 = datetime(2026, 3, 1, 10, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _voter(n: int) -> polls.Voter:
    return polls.Voter(f"a:voter{n}", None)


@pytest.fixture
def moved_poll(db, make_article):
    """Yes → No: 3 (two on day 1, one on day 2); No → Yes: 1; Yes → Too early: 1;
    one withdrawal from No; and voter 6 moved but is set aside."""
    article = make_article(poll=True)
    poll = article.poll
    yes, no, early = poll.options
    for n in range(1, 8):
        polls.cast_vote(poll, _voter(n), (no if n == 4 else yes).id, DAY1)
    polls.cast_vote(poll, _voter(1), no.id, DAY1)
    polls.cast_vote(poll, _voter(2), no.id, DAY1)
    polls.cast_vote(poll, _voter(3), no.id, DAY2)
    polls.cast_vote(poll, _voter(4), yes.id, DAY2)
    polls.cast_vote(poll, _voter(5), early.id, DAY2)
    polls.cast_vote(poll, _voter(6), early.id, DAY2)
    db.session.commit()
    polls.withdraw_vote(poll, "a:voter3")  # now on No: a withdrawal from No
    db.session.commit()
    from sqlalchemy import update

    from webapp.models import Vote

    db.session.execute(update(Vote).where(Vote.voter_key == "a:voter6").values(set_aside_at=DAY2))
    db.session.commit()
    return article


def _editor(make_api, make_user):
    editor = make_api()
    editor.login(make_user(role="editor"))
    return editor


def _flow_svg(page: str) -> ET.Element:
    found = re.search(r'<svg[^>]*class="flow-chart-svg".*?</svg>', page, re.S)
    assert found, "no flow chart on the page"
    return ET.fromstring(found.group(0).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def _band_thickness(path: str) -> float:
    """A band's path: M x y0 C ... x1 y1 V y1+thickness ...: its thickness at the right."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.split("V")[0])]
    bottom = float(re.match(r"(-?\d+(?:\.\d+)?)", path.split("V")[1]).group(1))  # type: ignore[union-attr]
    return bottom - numbers[-1]


def test_the_flow_chart_draws_each_move_as_a_band_as_thick_as_its_count(
    moved_poll, make_api, make_user
):
    page = _editor(make_api, make_user).get(f"/editor/articles/{moved_poll.id}/results")
    assert page.status_code == 200
    svg = _flow_svg(page.get_data(as_text=True))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}title").text
    desc = svg.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert "from Yes to No, 3" in desc and "from No to Yes, 1" in desc

    bands = {
        (g.get("data-from"), g.get("data-to")): g
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "flow-band"
    }
    # Voter 6's move is set aside: Yes → Too early counts voter 5 only.
    assert {pair: int(g.get("data-count")) for pair, g in bands.items()} == {
        ("Yes", "No"): 3,
        ("Yes", "Too early to tell"): 1,
        ("No", "Yes"): 1,
    }
    per_move = set()
    for (source, target), g in bands.items():
        count = int(g.get("data-count"))
        assert g.find(f"{SVG}text").text == str(count)  # the number drawn on the band
        assert g.find(f"{SVG}title").text.startswith(f"{source} → {target}: {count} move")
        per_move.add(round(_band_thickness(g.find(f"{SVG}path").get("d")) / count, 3))
    assert len(per_move) == 1 and per_move.pop() > 0  # widths in proportion to counts

    nodes = {
        (g.get("class"), g.get("data-label")): g
        for g in svg.iter(f"{SVG}g")
        if (g.get("class") or "").startswith("flow-node")
    }
    figures = {key: [t.text for t in g.iter(f"{SVG}text")] for key, g in nodes.items()}
    assert figures[("flow-node flow-source", "Yes")] == ["Yes", "4 moves away"]
    assert figures[("flow-node flow-source", "No")] == ["No", "1 move away"]
    assert figures[("flow-node flow-target", "No")] == ["No", "3 moves in"]
    assert ("flow-node flow-target", "Too early to tell") in nodes
    assert ("flow-node flow-source", "Too early to tell") not in nodes  # nobody left it
    heights = {key: float(g.find(f"{SVG}rect").get("height")) for key, g in nodes.items()}
    assert heights[("flow-node flow-source", "Yes")] == pytest.approx(
        4 * heights[("flow-node flow-source", "No")]
    )


def test_the_table_beside_the_chart_and_the_day_table_hold_the_same_numbers(
    moved_poll, make_api, make_user
):
    page = _editor(make_api, make_user).get(f"/editor/articles/{moved_poll.id}/results")
    html = page.get_data(as_text=True)
    assert 'href="#minds-title"' in html
    table = re.search(r'<table class="data-table" id="minds-table">.*?</table>', html, re.S)
    assert table
    rows = {
        re.sub(r"<.*?>", "", row.group(1)).strip(): [
            re.sub(r"<.*?>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(2))
        ]
        for row in re.finditer(r'<th scope="row">(.*?)</th>(.*?)</tr>', table.group(0), re.S)
    }
    # To Yes, To No, To Too early, Moved away, Withdrew.
    assert rows["Yes"] == ["—", "3", "1", "4", "0"]
    assert rows["No"] == ["1", "—", "0", "1", "1"]
    assert rows["Too early to tell"] == ["0", "0", "—", "0", "0"]
    assert rows["Moved in"] == ["1", "3", "1", "5", "1"]

    days = re.search(r'<table class="data-table" id="minds-days">.*?</table>', html, re.S)
    assert days
    text = re.sub(r"\s+", " ", re.sub(r"<.*?>", " ", days.group(0)))
    assert "01 Mar 2026 2 Yes → No: 2 0" in text
    assert "02 Mar 2026 3 Yes → No: 1; Yes → Too early to tell: 1; No → Yes: 1" in text


def test_the_csv_lists_each_day_and_pair(moved_poll, make_api, make_user):
    response = _editor(make_api, make_user).get(
        f"/editor/articles/{moved_poll.id}/minds-changed.csv"
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "minds-changed.csv" in response.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == ["day", "change", "from_answer", "to_answer", "votes"]
    moves = [row for row in rows if row[1] == "move"]
    assert moves == [
        ["2026-03-01", "move", "Yes", "No", "2"],
        ["2026-03-02", "move", "Yes", "No", "1"],
        ["2026-03-02", "move", "Yes", "Too early to tell", "1"],
        ["2026-03-02", "move", "No", "Yes", "1"],
    ]
    withdrawals = [row for row in rows if row[1] == "withdrawal"]
    assert [row[2:] for row in withdrawals] == [["No", "", "1"]]


def test_nobody_changed_their_mind_says_so(db, make_article, make_api, make_user):
    article = make_article(poll=True)
    polls.cast_vote(article.poll, _voter(1), article.poll.options[0].id, DAY1)
    db.session.commit()
    html = (
        _editor(make_api, make_user)
        .get(f"/editor/articles/{article.id}/results")
        .get_data(as_text=True)
    )
    assert "Nobody has changed their answer yet." in html
    assert "flow-chart-svg" not in html


def test_only_editors_and_admins_see_the_moves(moved_poll, make_api, make_user):
    csv_url = f"/editor/articles/{moved_poll.id}/minds-changed.csv"
    assert make_api().get(csv_url).status_code == 401
    for role, status in (("reader", 403), ("moderator", 403), ("editor", 200), ("admin", 200)):
        visitor = make_api()
        visitor.login(make_user(role=role))
        assert visitor.get(csv_url).status_code == status, role


def test_an_article_without_a_poll_has_no_moves_file(make_article, make_api, make_user):
    article = make_article()
    editor = _editor(make_api, make_user)
    assert editor.get(f"/editor/articles/{article.id}/minds-changed.csv").status_code == 404
    assert "Minds changed" not in editor.get(f"/editor/articles/{article.id}/results").get_data(
        as_text=True
    )
