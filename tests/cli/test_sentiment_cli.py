from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from webapp.models import Comment
from webapp.services.insights.minilm import MiniLMAnalyser
from webapp.services.insights.sentiment import Sentiment, analyse, label_for
from webapp.services.insights.topics import topic_words_by_article
from webapp.services.markup import render_comment

PROJECT_ROOT = Path(__file__).resolve().parents[2]

BODIES = [
    "What a wonderful, thoughtful article. I loved reading it!",
    "This is a terrible, dishonest article and I hate it.",
    "The council meets on Tuesday at ten in the town hall.",
    "Great reporting, see [the data](https://example.org/numbers).",
    "Not good. Not good at all.",
]


def add_comments(db, make_user, make_article, bodies=BODIES) -> list[int]:
    """Comments with wrong or missing sentiment, committed, so no transaction stays open."""
    author = make_user()
    article = make_article()
    comments = [
        Comment(
            article_id=article.id,
            author_id=author.id,
            body=body,
            html=render_comment(body),
            status="published",
            sentiment=None if n % 2 else 0.99,
            sentiment_label=None if n % 2 else "negative",
        )
        for n, body in enumerate(bodies)
    ]
    db.session.add_all(comments)
    db.session.flush()
    ids = [comment.id for comment in comments]
    db.session.commit()
    return ids


def stored(db) -> list[tuple[int, str, float | None, str | None]]:
    db.session.rollback()
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                Comment.id, Comment.body, Comment.sentiment, Comment.sentiment_label
            ).order_by(Comment.id)
        )
    ]


def assert_all_scored(db, count: int) -> None:
    rows = stored(db)
    assert len(rows) == count
    for _, body, score, label in rows:
        assert Sentiment(score, label) == analyse(body)


def test_sentiment_rescore_scores_every_comment(runner, db, make_user, make_article):
    add_comments(db, make_user, make_article)
    result = runner.invoke(args=["sentiment", "rescore", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Re-scoring comments" in result.output
    assert "Re-scored 5 comments." in result.output
    assert_all_scored(db, 5)


def test_sentiment_rescore_twice_gives_the_same_scores(runner, db, make_user, make_article):
    add_comments(db, make_user, make_article)
    assert runner.invoke(args=["sentiment", "rescore"]).exit_code == 0
    first = stored(db)
    result = runner.invoke(args=["sentiment", "rescore"])
    assert result.exit_code == 0, result.output
    assert "Re-scored 5 comments." in result.output
    assert stored(db) == first


def test_sentiment_rescore_with_no_comments_says_so(runner, db):
    result = runner.invoke(args=["sentiment", "rescore"])
    assert result.exit_code == 0, result.output
    assert "Re-scored 0 comments." in result.output


def test_sentiment_rescore_refuses_a_batch_size_below_one(runner, db):
    result = runner.invoke(args=["sentiment", "rescore", "--batch-size", "0"])
    assert result.exit_code == 2
    assert "batch-size" in result.output


def test_flask_command_line_rescores_the_configured_database(backend, db, make_user, make_article):
    add_comments(db, make_user, make_article, BODIES[:3])
    env = {
        **os.environ,
        "DATABASE_URL": backend.url,
        "SECRET_KEY": TEST_SECRET,
        "RATELIMIT_ENABLED": "0",
    }
    flask = Path(sys.executable).with_name("flask")
    completed = subprocess.run(
        [str(flask), "--app", "wsgi", "sentiment", "rescore"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Re-scored 3 comments." in completed.stdout
    # Nothing named an analyser, so the site's default, the MiniLM model, scored them,
    # each with its article's topic words.
    model = MiniLMAnalyser()
    rows = db.session.execute(
        sa.select(Comment.body, Comment.sentiment, Comment.sentiment_label, Comment.article_id)
    ).all()
    assert len(rows) == 3
    for body, score, label, article_id in rows:
        expected = model.score_in_topic(body, topic_words_by_article([article_id])[article_id])
        assert score == pytest.approx(expected, abs=1e-6)
        assert label == label_for(score)


def test_sentiment_rescore_in_two_workers(runner, db, make_user, make_article):
    add_comments(db, make_user, make_article)
    result = runner.invoke(args=["sentiment", "rescore", "--workers", "2", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Re-scoring comments (2 workers)" in result.output
    assert "Re-scored 5 comments." in result.output
    assert_all_scored(db, 5)


def test_sentiment_rescore_after_an_id_does_only_the_rest(runner, db, make_user, make_article):
    ids = add_comments(db, make_user, make_article)
    result = runner.invoke(args=["sentiment", "rescore", "--after-id", str(ids[2])])
    assert result.exit_code == 0, result.output
    assert "Re-scored 2 comments." in result.output
    rows = stored(db)
    assert [row[2:] for row in rows[:3]] == [(0.99, "negative"), (None, None), (0.99, "negative")]
    for _, body, score, label in rows[3:]:
        assert Sentiment(score, label) == analyse(body)


def test_a_stopped_rescore_says_how_to_finish(app, runner, db, make_user, make_article):
    bodies = [f"comment {n}" for n in range(5)]
    bodies[3] = "comment boom"
    ids = add_comments(db, make_user, make_article, bodies)
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FlakyAnalyser"
    args = ["sentiment", "rescore", "--workers", "2", "--batch-size", "2"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert f"--after-id {ids[1]}" in result.output
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FakeAnalyser"
    result = runner.invoke(args=[*args, "--after-id", str(ids[1])])
    assert result.exit_code == 0, result.output
    assert "Re-scored 3 comments." in result.output
    assert [row[2:] for row in stored(db)] == [(0.25, "positive")] * 5


def test_sentiment_rescore_refuses_no_workers(runner, db):
    result = runner.invoke(args=["sentiment", "rescore", "--workers", "0"])
    assert result.exit_code == 2
    assert "workers" in result.output
