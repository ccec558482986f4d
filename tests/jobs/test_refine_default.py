"""The site's default analyser is the MiniLM model, scored in the background; a site
that names VADER in SENTIMENT_ANALYSER posts as it always did (nothing queued)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp.extensions import db as _db
from webapp.jobs.runner import Worker
from webapp.models import Comment
from webapp.models.jobs import Job
from webapp.services import comments
from webapp.services.insights import minilm, refine
from webapp.services.insights.sentiment import DEFAULT_ANALYSER, VaderAnalyser, analyse
from webapp.services.insights.topics import topic_words_for

TEXT = "What a wonderful, lovely and generous plan."


def _stored(comment_id: int) -> Comment:
    _db.session.expire_all()
    found = _db.session.get(Comment, comment_id)
    assert found is not None
    return found


def _jobs() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(Job)) or 0


def test_with_vader_named_nothing_is_queued(app, make_user, make_article):
    # The test suite names VADER (tests/conftest.py), as a site without the model would.
    assert app.config["SENTIMENT_ANALYSER"].endswith(":VaderAnalyser")
    article = make_article()
    author = make_user()
    comment = comments.submit(article, author, TEXT)
    _db.session.commit()
    comments.edit(comment, author, TEXT + " Truly.")
    _db.session.commit()

    stored = _stored(comment.id)
    assert stored.sentiment == pytest.approx(analyse(TEXT + " Truly.").score)
    assert not stored.tone_pending
    assert _jobs() == 0
    assert refine.pending_refinements(article.id) == 0
    assert not refine.analyser_is_slow()


@pytest.mark.skipif(not minilm.model_is_installed(), reason="the MiniLM weights are not installed")
def test_by_default_the_model_refines_each_comment_in_the_background(
    make_app, make_user, make_article
):
    app = make_app(SENTIMENT_ANALYSER=None)  # the site's default, as shipped
    with app.app_context():
        assert DEFAULT_ANALYSER == "webapp.services.insights.minilm:MiniLMAnalyser"
        assert refine.analyser_is_slow()
        article = make_article("Ceasefire talks resume", labels=["World"])
        author = make_user()
        comment = comments.submit(article, author, TEXT)
        _db.session.commit()

        posted = _stored(comment.id)
        # At once: VADER's score with the article's topic words, and a queued refinement.
        assert posted.sentiment == pytest.approx(
            VaderAnalyser().score_in_topic(TEXT, topic_words_for(article))
        )
        assert posted.tone_pending and _jobs() == 1
        assert refine.pending_refinements(article.id) == 1

        assert Worker().run(burst=True) == 1

        refined = _stored(comment.id)
        model_score = minilm.MiniLMAnalyser().score_in_topic(TEXT, topic_words_for(article))
        assert refined.sentiment == pytest.approx(model_score, abs=1e-6)
        assert not refined.tone_pending
        assert refine.pending_refinements(article.id) == 0
