"""Issue 17 on the pages: the accuracy line, intervals, suppressed groups, the comments
waiting for their refined score, and moderators' one-click tone corrections."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.insight_data import D1, D2, add_comment, vote
from webapp.models import Comment
from webapp.models.tone_corrections import ToneCorrection
from webapp.services.insights import accuracy

VADER = "webapp.services.insights.sentiment:VaderAnalyser"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user("editor"))
    return client


@pytest.fixture
def moderator(make_api, make_user):
    client = make_api()
    client.login(make_user("moderator"))
    return client


@pytest.fixture
def story(db, make_user, make_article):
    """Yes: three commenters (+0.6, +0.2, +0.4); No: one (-0.5)."""
    article = make_article("Will the ceasefire hold", poll=True)
    yes, no, _ = article.poll.options
    for option, score in ((yes, 0.6), (yes, 0.2), (yes, 0.4), (no, -0.5)):
        author = make_user()
        vote(article.poll, author, option, D1)
        add_comment(db, article, author, score, "positive" if score > 0 else "negative", D2)
    db.session.commit()
    return article


@pytest.fixture
def figures(tmp_path, monkeypatch):
    path = tmp_path / "accuracy.json"
    monkeypatch.setattr(accuracy, "FIGURE_FILES", (path,))
    accuracy.clear_cache()
    yield path
    accuracy.clear_cache()


def test_results_and_overview_state_the_measured_accuracy(editor, story, figures):
    figures.write_text(
        json.dumps({"analysers": {VADER: {"sets": {"news": {"accuracy": 0.61, "macro_f1": 0.6}}}}})
    )
    page = text(editor.get(f"/editor/articles/{story.id}/results"))
    assert "Tone is indicative: measured 61 % on news comments (VADER" in page
    assert "news comments 61% accuracy, macro-F1 0.60." in page
    overview = text(editor.get("/editor/overview"))
    assert "Tone is indicative: measured 61 % on news comments (VADER" in overview


def test_without_figures_the_pages_say_accuracy_not_measured(editor, story, figures):
    page = text(editor.get(f"/editor/articles/{story.id}/results"))
    assert "Tone is indicative: accuracy not measured (VADER" in page
    assert " % on " not in page
    assert "accuracy not measured" in text(editor.get("/editor/overview"))


def test_small_groups_show_their_count_not_their_tone(app, editor, story):
    app.config["SENTIMENT_MIN_GROUP_COMMENTS"] = 3
    page = text(editor.get(f"/editor/articles/{story.id}/results"))
    by_vote = page.split('id="by-vote-title"')[1].split("</section>")[0]
    # Yes has three comments: shown, with its interval (0.4 ± 1.96·0.2/√3 = ±0.23).
    assert (
        '<th scope="row">Yes</th><td class="numeric">3</td>'
        '<td class="numeric">+0.40 (+0.17 to +0.63)</td>' in by_vote
    )
    # No has one: its count, and why there is no tone.
    assert (
        '<th scope="row">No</th><td class="numeric">1</td>'
        '<td colspan="4" class="suppressed">too few comments to show tone</td>' in by_vote
    )
    table = by_vote.split("<tbody>")[1].split("</tbody>")[0]
    assert "0.50" not in table
    assert "1 comment: too few to show tone" in by_vote  # the chart's text too
    # The whole article's tone is never suppressed.
    whole = page.split('id="tone-title"')[1].split("</section>")[0]
    assert " to " in whole.split("Mean tone")[1].split("</dd>")[0]


def test_the_api_keeps_its_fields_and_adds_interval_and_suppressed(app, api, story):
    app.config["SENTIMENT_MIN_GROUP_COMMENTS"] = 3
    yes, no, _ = story.poll.options
    body = api.get(f"/api/v1/articles/{story.slug}/sentiment").get_json()
    assert body["by_vote"][str(no.id)]["suppressed"] is True
    assert body["by_vote"][str(no.id)]["mean"] == pytest.approx(-0.5)  # still a number
    assert body["by_vote"][str(no.id)]["interval"] is None
    shown = body["by_vote"][str(yes.id)]
    assert shown["suppressed"] is False
    assert shown["interval"] == pytest.approx([0.4 - 0.2263, 0.4 + 0.2263], abs=1e-3)
    assert body["no_vote"]["suppressed"] is True


def test_the_results_page_says_how_many_comments_wait_for_the_refined_score(db, editor, story):
    db.session.execute(
        sa.update(Comment).where(Comment.article_id == story.id).values(tone_pending=True)
    )
    db.session.commit()
    page = text(editor.get(f"/editor/articles/{story.id}/results"))
    assert "4 comments still waiting for the refined score." in page
    db.session.execute(sa.update(Comment).values(tone_pending=False))
    db.session.commit()
    assert "still waiting" not in text(editor.get(f"/editor/articles/{story.id}/results"))


# --- one-click corrections --------------------------------------------------------------


def _comment(story) -> Comment:
    return next(c for c in story_comments(story) if c.sentiment_label == "positive")


def story_comments(story):
    from webapp.extensions import db

    return db.session.scalars(
        sa.select(Comment).where(Comment.article_id == story.id).order_by(Comment.id)
    ).all()


@pytest.fixture
def held(db, story, make_user):
    """A pending comment, so it is in the moderation queue."""
    comment = add_comment(db, story, make_user(), 0.54, "positive", D2, status="pending")
    db.session.commit()
    return comment


def test_the_queue_offers_tone_buttons_that_work_without_script(db, moderator, held):
    page = text(moderator.get("/moderation/queue/pending"))
    action = f'action="/moderation/comments/{held.id}/tone"'
    assert action in page
    form = page.split(action)[1].split("</form>")[0]
    assert 'name="csrf_token"' in form
    assert 'name="label" value="negative"' in form
    assert 'value="positive" class="link-button" aria-pressed="true" disabled' in form

    response = moderator.form(
        f"/moderation/comments/{held.id}/tone",
        {"label": "negative", "next": "/moderation/queue/pending"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/moderation/queue/pending")
    db.session.expire_all()
    comment = db.session.get(Comment, held.id)
    assert (comment.sentiment_label, comment.sentiment) == ("negative", -0.5)
    stored = db.session.scalars(sa.select(ToneCorrection)).one()
    assert (stored.label, stored.analyser_label, stored.body) == ("negative", "positive", held.body)
    assert "tone is now negative" in text(moderator.get("/moderation/queue/pending"))
    log = text(moderator.get("/moderation/log"))
    assert "Corrected the tone to negative (the analyser said positive)" in log
    assert '<option value="correct_tone" >correct tone</option>' in log


def test_a_correction_needs_the_csrf_token_and_a_known_label(db, moderator, held):
    url = f"/moderation/comments/{held.id}/tone"
    response = moderator.client.post(url, data={"label": "negative"})
    assert response.status_code == 403  # the app's answer to a form without its token
    response = moderator.form(url, {"label": "furious"})
    assert response.status_code == 302
    assert "must be positive, neutral or negative" in text(
        moderator.get("/moderation/queue/pending")
    )
    assert db.session.scalars(sa.select(ToneCorrection)).all() == []
    assert (
        moderator.form("/moderation/comments/999999/tone", {"label": "neutral"}).status_code == 404
    )


def test_only_moderators_and_admins_correct(db, make_api, make_user, held):
    url = f"/moderation/comments/{held.id}/tone"
    for role, expected in ((None, 401), ("reader", 403), ("editor", 403), ("admin", 302)):
        client = make_api()
        if role:
            client.login(make_user(role))
        assert client.form(url, {"label": "neutral"}).status_code == expected, role
    assert [c.label for c in db.session.scalars(sa.select(ToneCorrection))] == ["neutral"]


def test_admins_correct_from_the_results_page_and_come_back_to_it(db, make_api, make_user, story):
    admin = make_api()
    admin.login(make_user("admin"))
    results = f"/editor/articles/{story.id}/results"
    page = text(admin.get(results))
    comment = _comment(story)
    assert f'action="/moderation/comments/{comment.id}/tone"' in page
    response = admin.form(
        f"/moderation/comments/{comment.id}/tone", {"label": "neutral", "next": results}
    )
    assert response.headers["Location"].endswith(results)
    # An editor reads the same page without the buttons.
    editor = make_api()
    editor.login(make_user("editor"))
    assert '/tone"' not in text(editor.get(results))
