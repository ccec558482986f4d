from __future__ import annotations

import csv
import io
from datetime import timedelta

from webapp.models import utcnow


def text(response) -> str:
    return response.get_data(as_text=True)


def _option_ids(article):
    return [option.id for option in article.poll.options]


def test_voting_without_script_redirects_back_to_the_results(api, make_article, make_user):
    article = make_article(poll=True)
    api.login(make_user())
    yes = _option_ids(article)[0]
    response = api.form(f"/articles/{article.slug}/poll", {"option_id": yes})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/articles/{article.slug}#poll")
    page = text(api.get(f"/articles/{article.slug}"))
    assert "Your vote is counted." in page
    assert "(your vote)" in page
    # One vote is below POLL_MIN_VOTES_FOR_SHARES: its count, without a percentage.
    assert '<span class="bar-figures">1 vote</span>' in page and "100% · 1 vote" not in page
    assert "Change my vote" in page and "Withdraw my vote" in page


def test_results_chart_is_accessible_text_and_svg(app, api, make_article, make_user):
    app.config["POLL_MIN_VOTES_FOR_SHARES"] = 1  # shares and bars from the first vote
    article = make_article(poll=True)
    api.login(make_user())
    api.form(f"/articles/{article.slug}/poll", {"option_id": _option_ids(article)[1]})
    page = text(api.get(f"/articles/{article.slug}"))
    assert 'role="img" aria-label="No: 100%, 1 vote"' in page
    assert "<script>" not in page.split("</main>")[0]


def test_script_voting_gets_the_poll_section_back(api, make_article, make_user):
    article = make_article(poll=True)
    api.login(make_user())
    response = api.form(
        f"/articles/{article.slug}/poll",
        {"option_id": _option_ids(article)[0]},
        headers={"X-Pulse-Fragment": "poll"},
    )
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith('<section class="poll" id="poll"')
    assert "(your vote)" in body


def test_withdraw_through_the_page(api, make_article, make_user):
    article = make_article(poll=True)
    api.login(make_user())
    api.form(f"/articles/{article.slug}/poll", {"option_id": _option_ids(article)[0]})
    api.form(f"/articles/{article.slug}/poll/withdraw", {})
    page = text(api.get(f"/articles/{article.slug}"))
    assert "Your vote is withdrawn." in page
    assert "(your vote)" not in page


def test_signed_out_visitor_is_asked_to_sign_in_when_anonymous_votes_are_off(client, make_article):
    article = make_article(poll=True)
    page = text(client.get(f"/articles/{article.slug}"))
    assert "to vote." in page and 'name="option_id"' not in page


def test_closed_poll_page_shows_final_results_and_no_form(client, make_article):
    article = make_article(
        poll={"closes_at": utcnow() - timedelta(days=1), "allow_anonymous": True}
    )
    page = text(client.get(f"/articles/{article.slug}"))
    assert "This poll is closed; these are the final results." in page
    assert 'name="option_id"' not in page


def test_voting_on_a_closed_poll_through_the_form_explains(api, make_article, make_user):
    article = make_article(poll={"closes_at": utcnow() - timedelta(days=1)})
    api.login(make_user())
    response = api.form(
        f"/articles/{article.slug}/poll",
        {"option_id": _option_ids(article)[0]},
        headers={"Referer": f"/articles/{article.slug}"},
    )
    assert response.status_code == 302
    assert "closed" in text(api.get(f"/articles/{article.slug}"))


def test_hidden_results_say_when_they_appear(client, make_article):
    article = make_article(poll={"results_visibility": "after_vote", "allow_anonymous": True})
    page = text(client.get(f"/articles/{article.slug}"))
    assert "Results appear once you have voted." in page


def test_editor_results_page_with_timeline_and_csv(make_api, make_user, make_article, db):
    from webapp.services import polls

    article = make_article(poll=True)
    poll = article.poll
    polls.cast_vote(
        poll, polls.Voter("a:1", None), poll.options[0].id, moment=utcnow() - timedelta(days=1)
    )
    polls.cast_vote(poll, polls.Voter("a:2", None), poll.options[1].id)
    db.session.commit()
    editor = make_api()
    editor.login(make_user(role="editor"))
    page = text(editor.get(f"/editor/articles/{article.id}/results"))
    assert "Share of votes held by each option, day by day" in page
    assert "<polyline" in page
    assert "Votes cast per option per day" in page
    csv_response = editor.get(f"/editor/articles/{article.id}/votes.csv")
    assert csv_response.mimetype == "text/csv"
    header, *votes = csv.reader(io.StringIO(text(csv_response)))
    assert header == ["vote", "option", "voter", "cast_at", "changed_at"]
    assert [vote[1] for vote in votes] == ["Yes", "No"]
    reader = make_api()
    reader.login(make_user())
    assert reader.get(f"/editor/articles/{article.id}/results").status_code == 403
    assert reader.get(f"/editor/articles/{article.id}/votes.csv").status_code == 403


def test_signed_out_vote_where_the_poll_wants_accounts_is_sent_to_sign_in(api, make_article, db):
    from webapp.models import Vote

    article = make_article(poll=True)
    response = api.form(f"/articles/{article.slug}/poll", {"option_id": _option_ids(article)[0]})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/articles/{article.slug}"
    assert "pulse_voter" not in response.headers.get("Set-Cookie", "")
    assert "Please sign in to vote in this poll." in text(api.get(f"/articles/{article.slug}"))
    assert db.session.scalar(db.select(db.func.count()).select_from(Vote)) == 0


def test_a_closed_poll_says_closed_rather_than_sign_in(client, make_article):
    article = make_article(poll={"closes_at": utcnow() - timedelta(days=1)})
    page = text(client.get(f"/articles/{article.slug}"))
    assert "This poll is closed; these are the final results." in page
    assert "to vote." not in page


def test_a_banned_reader_gets_the_form_and_voting_says_why_not(api, make_article, make_user, db):
    article = make_article(poll=True)
    user = make_user()
    user.banned_at = utcnow()
    db.session.commit()
    api.login(user)
    page = text(api.get(f"/articles/{article.slug}"))
    assert 'name="option_id"' in page and "to vote." not in page
    response = api.form(f"/articles/{article.slug}/poll", {"option_id": _option_ids(article)[0]})
    assert response.status_code == 403
    assert "banned" in text(response)
    assert api.form(f"/articles/{article.slug}/poll/withdraw", {}).status_code == 403


def test_the_page_form_and_the_api_share_one_vote(api, make_article, make_user):
    article = make_article(poll={"allow_anonymous": True})
    yes, no = _option_ids(article)[:2]
    first = api.form(f"/articles/{article.slug}/poll", {"option_id": yes})
    assert first.status_code == 302 and "pulse_voter=" in first.headers["Set-Cookie"]
    moved = api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": no})
    assert moved.status_code == 200  # the same anonymous voter: moved, not a second vote
    assert moved.get_json()["my_vote"] == no and moved.get_json()["total"] == 1
