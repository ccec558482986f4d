"""`flask --app wsgi sentiment evaluate`: the configured analyser on the moderators'
tone corrections (issue 17)."""

from __future__ import annotations

import pytest

from tests.insight_data import D1, add_comment
from webapp.services.insights import corrections
from webapp.services.insights import sentiment as scoring


class NegativeAnalyser:
    """Calls everything negative: right only where a moderator said negative."""

    def score(self, text: str) -> float:
        return -0.8


@pytest.fixture
def negative_analyser(app):
    app.config["SENTIMENT_ANALYSER"] = NegativeAnalyser
    scoring.clear_cache()
    yield
    scoring.clear_cache()


def test_evaluate_says_so_when_there_are_no_corrections(runner, negative_analyser):
    result = runner.invoke(args=["sentiment", "evaluate"])
    assert result.exit_code == 0, result.output
    assert "No tone corrections yet" in result.output
    assert "NegativeAnalyser" in result.output


def test_evaluate_prints_accuracy_macro_f1_and_the_confusion_matrix(
    runner, db, make_user, make_article, negative_analyser
):
    article = make_article("Budget day")
    author, moderator = make_user(), make_user("moderator")
    for label in ("negative", "negative", "positive", "neutral"):
        comment = add_comment(db, article, author, 0.2, "positive", D1)
        corrections.correct_tone(comment, moderator, label)
    db.session.commit()

    result = runner.invoke(args=["sentiment", "evaluate"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Corrected comments: 4" in lines
    assert "Accuracy: 0.500" in lines
    # F1: negative 2·(0.5·1)/(1.5) = 2/3; positive and neutral 0: macro (2/3)/3.
    assert "Macro-F1: 0.222" in lines
    matrix = lines[lines.index(next(line for line in lines if line.startswith("Confusion"))) + 1 :]
    assert matrix[0].split() == ["positive", "neutral", "negative"]
    assert matrix[1].split() == ["positive", "0", "0", "1"]
    assert matrix[2].split() == ["neutral", "0", "0", "1"]
    assert matrix[3].split() == ["negative", "0", "0", "2"]


def test_recount_check_reports_a_drifted_sum_of_squares(runner, db, make_user, make_article):
    import sqlalchemy as sa

    from webapp.models.tone_counters import ArticleToneCount

    article = make_article("Derby day")
    add_comment(db, article, make_user(), -0.4, "negative", D1)
    db.session.commit()
    assert runner.invoke(args=["sentiment", "recount", "--check"]).exit_code == 0
    db.session.execute(sa.update(ArticleToneCount).values(total_sq=ArticleToneCount.total_sq + 1))
    db.session.commit()

    result = runner.invoke(args=["sentiment", "recount", "--check"])
    assert result.exit_code == 1
    assert "total_sq 160000000001 -> 160000000000" in result.output
    assert runner.invoke(args=["sentiment", "recount"]).exit_code == 0
    assert runner.invoke(args=["sentiment", "recount", "--check"]).exit_code == 0
