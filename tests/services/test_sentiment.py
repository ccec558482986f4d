from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
from werkzeug.utils import ImportStringError

from webapp.extensions import db as _db
from webapp.models import Comment
from webapp.services.insights import minilm, sentiment
from webapp.services.insights.sentiment import (
    Sentiment,
    VaderAnalyser,
    analyse,
    get_analyser,
    label_for,
    rescore_comments,
    text_for_analysis,
)
from webapp.services.markup import render_comment

POSITIVE_SENTENCE = "What a wonderful, thoughtful article. I loved reading it!"
NEGATIVE_SENTENCE = "This is a terrible, dishonest article and I hate it."
NEUTRAL_SENTENCE = "The council meets on Tuesday at ten in the town hall."


# --- fakes named by SENTIMENT_ANALYSER in these tests --------------------------------


class FakeAnalyser:
    """Says -0.5 for texts containing "meh", else 0.25, and remembers what it read."""

    instances = 0
    texts: list[str] = []

    def __init__(self) -> None:
        FakeAnalyser.instances += 1

    def score(self, text: str) -> float:
        FakeAnalyser.texts.append(text)
        return -0.5 if "meh" in text else 0.25


class LoudAnalyser:
    def score(self, text: str) -> float:
        return -3.0 if "down" in text else 7.0


class NaNAnalyser:
    def score(self, text: str) -> float:
        return math.nan


class FlakyAnalyser:
    """Fails on "boom", as a crash or Ctrl-C part-way through a run would."""

    def score(self, text: str) -> float:
        if "boom" in text:
            raise RuntimeError("analyser crashed")
        return 0.25


class EditingAnalyser:
    """While scoring "edit me", a reader edits that comment through another connection."""

    def score(self, text: str) -> float:
        if "edit me" in text:
            comments = Comment.__table__
            with _db.engine.begin() as connection:
                connection.execute(
                    sa.update(comments)
                    .where(comments.c.body == text)
                    .values(body="Edited: lovely now.", sentiment=0.42, sentiment_label="positive")
                )
        return -0.3


@pytest.fixture(autouse=True)
def fresh_analysers(monkeypatch):
    # Outside an app these tests read VADER (inside one, tests/conftest.py names it):
    # the site's default is the MiniLM model (tests/services/test_minilm.py).
    monkeypatch.setattr(sentiment._analysers, "default", sentiment.FAST_ANALYSER)
    sentiment.clear_cache()
    FakeAnalyser.instances = 0
    FakeAnalyser.texts = []
    yield
    sentiment.clear_cache()


# --- labels and scores -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (1.0, "positive"),
        (0.05, "positive"),
        (0.0499, "neutral"),
        (0.0, "neutral"),
        (-0.0499, "neutral"),
        (-0.05, "negative"),
        (-1.0, "negative"),
    ],
)
def test_label_for_uses_vaders_thresholds(score, label):
    assert label_for(score) == label


def test_clearly_positive_sentence_is_positive():
    result = analyse(POSITIVE_SENTENCE)
    assert result.score > 0.5
    assert result.label == "positive"


def test_clearly_negative_sentence_is_negative():
    result = analyse(NEGATIVE_SENTENCE)
    assert result.score < -0.5
    assert result.label == "negative"


def test_neutral_factual_sentence_is_neutral():
    assert analyse(NEUTRAL_SENTENCE) == Sentiment(score=0.0, label="neutral")


def test_score_is_vaders_compound():
    library = SentimentIntensityAnalyzer()
    # The example from VADER's own README.
    assert analyse("VADER is smart, handsome, and funny.").score == 0.8316
    for text in (POSITIVE_SENTENCE, NEGATIVE_SENTENCE, NEUTRAL_SENTENCE, "Not bad at all :)"):
        assert analyse(text).score == library.polarity_scores(text)["compound"]


def test_links_are_read_as_their_text_and_bare_urls_dropped():
    text = "Such [a great piece](https://example.org/kill) - see https://example.org/a?b=c too"
    prepared = text_for_analysis(text)
    assert "a great piece" in prepared
    assert "example.org" not in prepared and "kill" not in prepared
    assert analyse(text) == analyse("Such a great piece - see too")


def test_empty_text_is_neutral():
    assert analyse("") == Sentiment(score=0.0, label="neutral")


def test_vader_is_built_once():
    analyser = get_analyser()
    assert isinstance(analyser, VaderAnalyser)
    assert get_analyser() is analyser


@pytest.mark.skipif(not minilm.model_is_installed(), reason="the MiniLM weights are not installed")
def test_the_sites_default_analyser_is_the_model(monkeypatch):
    monkeypatch.setattr(sentiment._analysers, "default", sentiment.DEFAULT_ANALYSER)
    assert isinstance(get_analyser(), minilm.MiniLMAnalyser)
    assert get_analyser() is get_analyser()


# --- replacing the analyser --------------------------------------------------------------


def test_configured_analyser_replaces_vader(make_app):
    app = make_app(SENTIMENT_ANALYSER="tests.services.test_sentiment:FakeAnalyser")
    with app.app_context():
        assert isinstance(get_analyser(), FakeAnalyser)
        assert analyse("it was meh") == Sentiment(score=-0.5, label="negative")
        assert analyse(NEGATIVE_SENTENCE) == Sentiment(score=0.25, label="positive")
    assert FakeAnalyser.texts == ["it was meh", NEGATIVE_SENTENCE]
    assert FakeAnalyser.instances == 1
    # Another app in the same process keeps the default.
    with make_app().app_context():
        assert isinstance(get_analyser(), VaderAnalyser)
        assert analyse(NEGATIVE_SENTENCE).label == "negative"


def test_analyser_may_be_configured_as_a_class_and_is_clipped_to_range(make_app):
    with make_app(SENTIMENT_ANALYSER=LoudAnalyser).app_context():
        assert analyse("up") == Sentiment(score=1.0, label="positive")
        assert analyse("down") == Sentiment(score=-1.0, label="negative")


def test_analyser_answering_nan_is_refused(make_app):
    with make_app(SENTIMENT_ANALYSER=NaNAnalyser).app_context(), pytest.raises(ValueError):
        analyse("anything")


def test_misconfigured_analyser_fails_loudly(make_app):
    not_an_analyser = make_app(SENTIMENT_ANALYSER="collections:OrderedDict")
    with not_an_analyser.app_context(), pytest.raises(TypeError, match="score"):
        get_analyser()
    missing = make_app(SENTIMENT_ANALYSER="tests.services.test_sentiment:Nope")
    with missing.app_context(), pytest.raises(ImportStringError):
        get_analyser()


# --- re-scoring stored comments ------------------------------------------------------

# Bodies with the stale values they start with: missing, or plainly wrong.
STALE = [
    (POSITIVE_SENTENCE, None, None),
    (NEGATIVE_SENTENCE, 0.9, "positive"),
    (NEUTRAL_SENTENCE, -0.7, "negative"),
    ("Great reporting, see [the data](https://example.org/awful-numbers).", None, None),
    ("Not good. Not good at all.", 0.0, "neutral"),
]


def add_comments(db, make_user, make_article, rows=STALE) -> list[int]:
    """Comment rows written directly, committed; returns their ids in order."""
    author = make_user()
    article = make_article()
    comments = [
        Comment(
            article_id=article.id,
            author_id=author.id,
            body=body,
            html=render_comment(body),
            status="published",
            sentiment=score,
            sentiment_label=label,
        )
        for body, score, label in rows
    ]
    db.session.add_all(comments)
    db.session.flush()
    ids = [comment.id for comment in comments]
    db.session.commit()
    return ids


def stored(db) -> list[tuple[int, str, float | None, str | None]]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                Comment.id, Comment.body, Comment.sentiment, Comment.sentiment_label
            ).order_by(Comment.id)
        )
    ]


def test_rescore_gives_every_comment_what_analyse_gives(app, db, make_user, make_article):
    ids = add_comments(db, make_user, make_article)
    assert rescore_comments() == 5
    rows = stored(db)
    assert [row[0] for row in rows] == ids
    for _, body, score, label in rows:
        assert Sentiment(score, label) == analyse(body)
    assert [label for *_, label in rows] == [
        "positive",
        "negative",
        "neutral",
        "positive",
        "negative",
    ]


def test_rescore_works_in_keyset_batches(app, db, make_user, make_article):
    add_comments(db, make_user, make_article)
    selects: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "comments" in statement:
            selects.append(statement.upper())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    batches: list[int] = []
    try:
        assert rescore_comments(batch_size=2, progress=batches.append) == 5
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert batches == [2, 2, 1]
    # Three batches and the empty read that ends the run, each bounded and starting
    # after the last id seen (SQLite's dialect always adds "OFFSET 0", so no check on that).
    assert len(selects) == 4
    assert all("LIMIT" in s and "COMMENTS.ID >" in s for s in selects)
    for _, body, score, label in stored(db):
        assert Sentiment(score, label) == analyse(body)


def test_rescore_again_gives_the_same_result_and_writes_nothing(app, db, make_user, make_article):
    add_comments(db, make_user, make_article)
    assert rescore_comments(batch_size=2) == 5
    first = stored(db)
    updates: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert rescore_comments(batch_size=2) == 5
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert stored(db) == first
    assert updates == []


def test_interrupted_rescore_keeps_finished_batches_and_a_rerun_completes(
    app, db, make_user, make_article
):
    rows = [(f"comment {n}", None, None) for n in range(5)]
    rows[2] = ("comment boom", None, None)
    ids = add_comments(db, make_user, make_article, rows)
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FlakyAnalyser"
    with pytest.raises(RuntimeError, match="crashed"):
        rescore_comments(batch_size=2)
    db.session.rollback()
    after_crash = {row[0]: (row[2], row[3]) for row in stored(db)}
    assert after_crash == {
        ids[0]: (0.25, "positive"),
        ids[1]: (0.25, "positive"),
        ids[2]: (None, None),
        ids[3]: (None, None),
        ids[4]: (None, None),
    }
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FakeAnalyser"
    assert rescore_comments(batch_size=2) == 5
    assert [(row[2], row[3]) for row in stored(db)] == [(0.25, "positive")] * 5


def test_comment_edited_during_rescore_keeps_its_new_score(app, db, make_user, make_article):
    rows = [("first", None, None), ("please edit me", None, None), ("third", None, None)]
    ids = add_comments(db, make_user, make_article, rows)
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:EditingAnalyser"
    assert rescore_comments(batch_size=10) == 3
    assert stored(db) == [
        (ids[0], "first", -0.3, "negative"),
        (ids[1], "Edited: lovely now.", 0.42, "positive"),
        (ids[2], "third", -0.3, "negative"),
    ]


def test_rescore_of_no_comments_scores_none(app, db):
    calls: list[int] = []
    assert rescore_comments(progress=calls.append) == 0
    assert calls == []


def test_rescore_refuses_an_empty_batch(app, db):
    with pytest.raises(ValueError):
        rescore_comments(batch_size=0)


# --- re-scoring in a pool of processes, and resuming ------------------------------------

#: A corpus of varied comments: every VADER case the stored values must survive.
CORPUS = [
    (f"{sentence} (comment {n})", None, None)
    for n, sentence in enumerate(
        [
            POSITIVE_SENTENCE,
            NEGATIVE_SENTENCE,
            NEUTRAL_SENTENCE,
            "Not good. Not good at all.",
            "Great reporting, see [the data](https://example.org/awful-numbers).",
            "meh",
            "I can't say I LOVE it, but it's not bad!!!",
            "",
        ]
        * 6
    )
]


def test_rescore_in_workers_gives_what_one_process_gives(app, db, make_user, make_article):
    ids = add_comments(db, make_user, make_article, CORPUS)
    batches: list[int] = []
    assert rescore_comments(batch_size=5, workers=2, progress=batches.append) == len(ids)
    assert sum(batches) == len(ids) and len(batches) == 10
    in_workers = stored(db)
    db.session.execute(sa.update(Comment).values(sentiment=None, sentiment_label=None))
    db.session.commit()
    assert rescore_comments(batch_size=5, workers=1) == len(ids)
    assert stored(db) == in_workers
    for _, body, score, label in in_workers:
        assert Sentiment(score, label) == analyse(body)


def test_workers_use_the_configured_analyser(app, db, make_user, make_article):
    add_comments(db, make_user, make_article, [("fine", None, None), ("meh", None, None)])
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FakeAnalyser"
    assert rescore_comments(batch_size=1, workers=2) == 2
    assert [(row[2], row[3]) for row in stored(db)] == [(0.25, "positive"), (-0.5, "negative")]


def test_a_run_stopped_part_way_is_finished_after_the_last_id_it_reported(
    app, db, make_user, make_article
):
    ids = add_comments(db, make_user, make_article, CORPUS)
    reported: list[int] = []

    def stop_after_two_batches(last_id: int) -> None:
        reported.append(last_id)
        if len(reported) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rescore_comments(batch_size=4, workers=2, checkpoint=stop_after_two_batches)
    db.session.rollback()
    assert reported == [ids[3], ids[7]]
    # Written: exactly the batches reported, though the pool had scored more.
    assert [row[2] is not None for row in stored(db)] == [n < 8 for n in range(len(ids))]

    reads: list = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "comments" in statement:
            reads.append(parameters)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert rescore_comments(batch_size=4, workers=2, after_id=reported[-1]) == len(ids) - 8
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    first = reads[0].values() if isinstance(reads[0], dict) else reads[0]
    assert ids[7] in first  # it starts after the last id reported
    for _, body, score, label in stored(db):
        assert Sentiment(score, label) == analyse(body)


def test_a_crash_in_a_worker_stops_the_run_and_keeps_the_batches_before(
    app, db, make_user, make_article
):
    rows = [(f"comment {n}", None, None) for n in range(6)]
    rows[4] = ("comment boom", None, None)
    ids = add_comments(db, make_user, make_article, rows)
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FlakyAnalyser"
    with pytest.raises(RuntimeError, match="crashed"):
        rescore_comments(batch_size=2, workers=2)
    db.session.rollback()
    assert {row[0]: row[2] for row in stored(db)} == {
        ids[0]: 0.25,
        ids[1]: 0.25,
        ids[2]: 0.25,
        ids[3]: 0.25,
        ids[4]: None,
        ids[5]: None,
    }


def test_rescore_refuses_no_workers(app, db):
    with pytest.raises(ValueError):
        rescore_comments(workers=0)


# --- moderators' corrections and batch analysers ------------------------------------------


class CorrectingAnalyser:
    """While scoring "correct me", a moderator corrects that comment's tone to neutral
    through another connection: the run must not overwrite the correction."""

    def score(self, text: str) -> float:
        if "correct me" in text:
            from webapp.models.tone_corrections import ToneCorrection

            comments, corrections = Comment.__table__, ToneCorrection.__table__
            with _db.engine.begin() as connection:
                comment_id = connection.execute(
                    sa.select(comments.c.id).where(comments.c.body == text)
                ).scalar_one()
                moderator_id = connection.execute(
                    sa.select(comments.c.author_id).where(comments.c.id == comment_id)
                ).scalar_one()
                connection.execute(
                    sa.insert(corrections).values(
                        comment_id=comment_id,
                        label="neutral",
                        moderator_id=moderator_id,
                        analyser="tests",
                        body=text,
                    )
                )
                connection.execute(
                    sa.update(comments)
                    .where(comments.c.id == comment_id)
                    .values(sentiment=0.0, sentiment_label="neutral")
                )
        return -0.8


class BatchAnalyser:
    """Scores whole batches only (as a model does), recording each batch's size and the
    topic words it was given."""

    batches: list[int] = []
    topic_words: list[frozenset[str]] = []

    def score(self, text: str) -> float:
        raise AssertionError("a batch analyser is given whole batches")

    def score_many_in_topic(self, texts, topic_words):
        BatchAnalyser.batches.append(len(texts))
        BatchAnalyser.topic_words.extend(topic_words)
        return [0.9 if "good" in text else float("-inf") for text in texts]


def test_rescore_leaves_a_moderators_correction_as_it_is(app, db, make_user, make_article):
    from webapp.models import Comment as CommentModel
    from webapp.services.insights.corrections import correct_tone

    ids = add_comments(db, make_user, make_article)
    moderator = make_user("moderator")
    correct_tone(db.session.get(CommentModel, ids[0]), moderator, "negative")
    db.session.commit()
    corrected_before = stored(db)[0]
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:FakeAnalyser"
    assert rescore_comments(batch_size=2) == 4  # the corrected comment is not re-scored
    rows = stored(db)
    assert rows[0] == corrected_before
    assert corrected_before[3] == "negative"
    assert [row[3] for row in rows[1:]] == ["positive"] * 4


def test_a_correction_made_while_a_batch_is_scored_is_kept(app, db, make_user, make_article):
    rows = [("first", None, None), ("please correct me", None, None), ("third", None, None)]
    ids = add_comments(db, make_user, make_article, rows)
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:CorrectingAnalyser"
    rescore_comments(batch_size=10)
    assert stored(db) == [
        (ids[0], "first", -0.8, "negative"),
        (ids[1], "please correct me", 0.0, "neutral"),
        (ids[2], "third", -0.8, "negative"),
    ]


def test_an_analyser_that_scores_batches_is_given_each_batch_at_once(
    app, db, make_user, make_article
):
    BatchAnalyser.batches, BatchAnalyser.topic_words = [], []
    rows = [("good one", None, None), ("bad one", None, None), ("good two", None, None)]
    add_comments(db, make_user, make_article, rows)
    app.config["SENTIMENT_ANALYSER"] = "tests.services.test_sentiment:BatchAnalyser"
    assert rescore_comments(batch_size=2) == 3
    assert BatchAnalyser.batches == [2, 1]
    # Every comment went with its article's words; scores are clipped and labelled.
    assert all(words for words in BatchAnalyser.topic_words)
    assert [(row[2], row[3]) for row in stored(db)] == [
        (0.9, "positive"),
        (-1.0, "negative"),
        (0.9, "positive"),
    ]
