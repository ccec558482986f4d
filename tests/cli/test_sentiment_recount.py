"""``flask --app wsgi sentiment recount``: the tone counters checked against the comment
rows, drift reported and set right; a rescore (in workers too) leaves none."""

from __future__ import annotations

import sqlalchemy as sa

from tests.cli.test_sentiment_cli import add_comments
from webapp.models import Article
from webapp.models.tone_counters import ArticleCommentDay, ArticleToneCount
from webapp.services.insights import for_article


def _tone(db, article_id: int) -> tuple[int, int, int, int, float]:
    db.session.rollback()
    db.session.expire_all()
    tone = for_article(db.session.get(Article, article_id)).comments
    return tone.count, tone.positive, tone.negative, tone.scored, tone.mean


def test_a_rescore_moves_the_counters_with_the_scores(runner, db, make_user, make_article):
    ids = add_comments(db, make_user, make_article)
    article_id = db.session.scalar(sa.select(ArticleToneCount.article_id))
    # Two comments stored as strongly negative, three unscored.
    assert _tone(db, article_id)[:4] == (5, 0, 3, 3)
    for workers in ("1", "2"):
        result = runner.invoke(args=["sentiment", "rescore", "--workers", workers])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["sentiment", "recount"])
        assert result.exit_code == 0, result.output
        assert "nothing to fix" in result.output
    count, positive, negative, scored, mean = _tone(db, article_id)
    assert (count, scored) == (len(ids), len(ids))
    assert positive == 2 and negative == 2  # the analyser's labels of the five bodies
    assert -1.0 < mean < 1.0


def test_recount_reports_and_fixes_a_drift(runner, db, make_user, make_article):
    add_comments(db, make_user, make_article)
    assert runner.invoke(args=["sentiment", "recount"]).exit_code == 0
    db.session.execute(sa.update(ArticleToneCount).values(negative=ArticleToneCount.negative + 1))
    db.session.execute(sa.update(ArticleCommentDay).values(comments=0))
    db.session.commit()

    checked = runner.invoke(args=["sentiment", "recount", "--check"])
    assert checked.exit_code == 1
    assert "negative 4 -> 3" in checked.output and "comments 0 -> 5" in checked.output
    assert "Found 2 drifted counter rows" in checked.output

    fixed = runner.invoke(args=["sentiment", "recount"])
    assert fixed.exit_code == 0, fixed.output
    assert "(fixed)" in fixed.output and "Fixed 2 drifted counter rows." in fixed.output
    again = runner.invoke(args=["sentiment", "recount"])
    assert "nothing to fix" in again.output
