"""How far editors can trust the tone (issue 17): intervals on mean tone from the
counters, suppression of small groups, the analyser's measured accuracy, moderators'
corrections and the analyser measured on them."""

from __future__ import annotations

import json
import math
import statistics

import pytest
import sqlalchemy as sa

from tests.insight_data import D1, D2, add_comment, vote
from webapp.errors import Forbidden, InvalidInput
from webapp.models import ModerationAction
from webapp.models.tone_corrections import ToneCorrection
from webapp.models.tone_counters import ArticleToneCount
from webapp.services import insights
from webapp.services.insights import accuracy, corrections, counters
from webapp.services.insights.comment_tone import Z_95, mean_interval

# --- the interval -----------------------------------------------------------------------


def test_interval_is_the_normal_approximation_on_known_numbers():
    scores = [0.8, 0.4, -0.6, 0.0]
    low, high = mean_interval(4, sum(scores), sum(s * s for s in scores))
    # 0.15 ± 1.96 · √(((1.16 − 4·0.0225) / 3) / 4)
    half = 1.959963984540054 * math.sqrt((1.16 - 4 * 0.0225) / 3 / 4)
    assert (low, high) == pytest.approx((0.15 - half, 0.15 + half))
    assert (round(low, 2), round(high, 2)) == (-0.44, 0.74)
    # The same as the textbook's formula with the sample standard deviation.
    spread = Z_95 * statistics.stdev(scores) / math.sqrt(len(scores))
    assert high - low == pytest.approx(2 * spread)


def test_interval_needs_two_scores_and_stays_inside_the_scale():
    assert mean_interval(0, 0.0, 0.0) is None
    assert mean_interval(1, 0.5, 0.25) is None
    # Equal scores: no spread (rounding must not make a negative variance).
    assert mean_interval(3, 0.3, 0.03) == pytest.approx((0.1, 0.1))
    # Two extreme scores: the interval is clipped to [-1, 1].
    assert mean_interval(2, 0.0, 2.0) == (-1.0, 1.0)


@pytest.fixture
def discussed(db, make_user, make_article):
    """Yes: four commenters (+0.8, +0.4, +0.6, -0.2); No: one (-0.6); no vote: one (0.0)."""
    article = make_article("Will the ceasefire hold", poll=True)
    yes, no, _ = article.poll.options
    scores = {yes: [0.8, 0.4, 0.6, -0.2], no: [-0.6]}
    for option, values in scores.items():
        for value in values:
            author = make_user()
            vote(article.poll, author, option, D1)
            add_comment(db, article, author, value, insights.label_for(value), D2)
    add_comment(db, article, make_user(), 0.0, "neutral", D2)
    db.session.commit()
    return article


def test_counters_keep_the_squares_and_the_interval_matches_the_rows(db, discussed):
    yes, no, _ = discussed.poll.options
    found = insights.for_article(discussed, min_group_comments=1)
    group = found.by_vote.options[yes.id]
    assert group.total_sq == pytest.approx(0.64 + 0.16 + 0.36 + 0.04)
    scores = [0.8, 0.4, 0.6, -0.2]
    spread = Z_95 * statistics.stdev(scores) / 2
    assert group.interval == pytest.approx((0.4 - spread, 0.4 + spread))
    assert found.by_vote.options[no.id].interval is None  # one comment
    whole = [0.8, 0.4, 0.6, -0.2, -0.6, 0.0]
    spread = Z_95 * statistics.stdev(whole) / math.sqrt(6)
    mean = statistics.mean(whole)
    assert found.comments.interval == pytest.approx((mean - spread, mean + spread))
    assert counters.recount(fix=False) == []


def test_recount_finds_and_fixes_a_drifted_sum_of_squares(db, discussed):
    db.session.execute(
        sa.update(ArticleToneCount)
        .where(ArticleToneCount.article_id == discussed.id)
        .values(total_sq=ArticleToneCount.total_sq + 5)
    )
    drifts = counters.recount()
    assert drifts and all("total_sq" in drift.describe() for drift in drifts)
    assert counters.recount(fix=False) == []


def test_overview_rows_carry_the_interval_of_the_whole_article(db, discussed):
    row = next(r for r in insights.overview().rows if r.id == discussed.id)
    whole = [0.8, 0.4, 0.6, -0.2, -0.6, 0.0]
    spread = Z_95 * statistics.stdev(whole) / math.sqrt(6)
    assert row.tone_interval == pytest.approx(
        (statistics.mean(whole) - spread, statistics.mean(whole) + spread)
    )


def test_groups_below_the_minimum_are_suppressed(db, discussed):
    yes, no, early = discussed.poll.options
    found = insights.for_article(discussed, min_group_comments=4)
    assert not found.suppressed(found.by_vote.options[yes.id])  # exactly four
    assert found.suppressed(found.by_vote.options[no.id])
    assert found.suppressed(found.by_vote.options[early.id])
    assert found.suppressed(found.by_vote.no_vote)
    # The setting is the default.
    assert insights.for_article(discussed).min_group_comments == 10


# --- the measured accuracy --------------------------------------------------------------

VADER = "webapp.services.insights.sentiment:VaderAnalyser"


@pytest.fixture
def figures(tmp_path):
    accuracy.clear_cache()
    path = tmp_path / "sentiment-latest.json"
    yield path
    accuracy.clear_cache()


def test_accuracy_is_read_for_the_configured_analyser(app, figures):
    figures.write_text(
        json.dumps(
            {
                "analysers": {
                    VADER: {
                        "sets": {
                            # The shape bench/sentiment_eval.py --publish writes.
                            "vader_test": {"accuracy": 0.535, "macro_f1": 0.526},
                            "news_plain": {"accuracy": 0.55, "macro_f1": 0.5, "n": 364},
                            "news": {"accuracy": 0.612, "macro_f1": 0.58, "n": 364},
                        }
                    }
                }
            }
        )
    )
    found = accuracy.for_analyser(files=[figures])
    assert found.analyser == accuracy.analyser_key() == VADER
    assert found.headline is not None and found.headline.name == "news"
    assert found.sentence.startswith("Tone is indicative: measured 61 % on news comments (VADER")
    assert [(s.name, s.macro_f1, s.size) for s in found.sets] == [
        ("vader_test", 0.526, None),
        ("news_plain", 0.5, 364),
        ("news", 0.58, 364),
    ]


def test_accuracy_not_measured_when_the_file_or_the_analyser_is_missing(app, figures):
    missing = accuracy.for_analyser(files=[figures])
    assert missing.sets == ()
    assert "accuracy not measured" in missing.sentence and "%" not in missing.sentence
    figures.write_text(
        json.dumps({"analysers": {"other.module:Other": {"news": {"accuracy": 0.9}}}})
    )
    accuracy.clear_cache()
    assert "accuracy not measured" in accuracy.for_analyser(files=[figures]).sentence
    figures.write_text("{not json")
    accuracy.clear_cache()
    assert "accuracy not measured" in accuracy.for_analyser(files=[figures]).sentence


def test_the_shipped_figures_name_the_default_analyser(app):
    accuracy.clear_cache()
    found = accuracy.for_analyser()
    news = found.headline
    assert news is not None and news.name == "news" and 0 < news.accuracy < 1
    assert found.sentence == (
        f"Tone is indicative: measured {news.accuracy * 100:.0f} % on news comments "
        "(VADER, topic-aware)."
    )


def test_rows_shaped_results_are_read_too():
    parsed = accuracy.parse(
        {"results": [{"analyser": VADER, "set": "news", "accuracy": 0.6, "macro_f1": 0.5}]}
    )
    assert parsed[VADER][0].accuracy == 0.6


# --- corrections ------------------------------------------------------------------------


@pytest.fixture
def moderator(make_user):
    return make_user("moderator")


def _one_comment(db, make_user, make_article, score=0.54, label="positive"):
    article = make_article("Peace talks", poll=True)
    comment = add_comment(db, article, make_user(), score, label, D1)
    db.session.commit()
    return article, comment


def test_a_correction_sets_the_label_keeps_the_data_and_moves_the_counters(
    db, make_user, make_article, moderator
):
    article, comment = _one_comment(db, make_user, make_article)
    comment.tone_pending = True  # queued for the refined score
    db.session.commit()
    before = insights.tone(article.id)
    assert (before.positive, before.negative) == (1, 0)

    correction = corrections.correct_tone(comment, moderator, "negative")
    db.session.commit()

    assert (comment.sentiment_label, comment.sentiment) == ("negative", -0.5)
    assert comment.tone_pending is False
    after = insights.tone(article.id)
    assert (after.positive, after.negative, after.mean) == (0, 1, pytest.approx(-0.5))
    assert counters.recount(fix=False) == []
    stored = db.session.get(ToneCorrection, correction.id)
    assert (stored.label, stored.moderator_id, stored.body) == (
        "negative",
        moderator.id,
        comment.body,
    )
    assert (stored.analyser_label, stored.analyser_score) == ("positive", pytest.approx(0.54))
    assert stored.analyser == VADER
    entry = db.session.scalars(sa.select(ModerationAction)).one()
    assert (entry.action, entry.comment_id, entry.actor_id) == (
        "correct_tone",
        comment.id,
        moderator.id,
    )
    assert corrections.corrected([comment.id, comment.id + 1000]) == {comment.id}


def test_a_score_already_in_the_band_is_kept_and_a_second_correction_keeps_the_analysers_verdict(
    db, make_user, make_article, moderator
):
    _, comment = _one_comment(db, make_user, make_article, score=0.3, label="positive")
    corrections.correct_tone(comment, moderator, "positive")
    assert comment.sentiment == pytest.approx(0.3)
    corrections.correct_tone(comment, moderator, "neutral")
    db.session.commit()
    assert (comment.sentiment_label, comment.sentiment) == ("neutral", 0.0)
    rows = db.session.scalars(sa.select(ToneCorrection).order_by(ToneCorrection.id)).all()
    assert [(r.label, r.analyser_label, r.analyser_score) for r in rows] == [
        ("positive", "positive", pytest.approx(0.3)),
        ("neutral", "positive", pytest.approx(0.3)),
    ]


def test_only_moderators_and_admins_correct_and_labels_are_checked(
    db, make_user, make_article, moderator
):
    _, comment = _one_comment(db, make_user, make_article)
    for role in ("reader", "editor"):
        with pytest.raises(Forbidden):
            corrections.correct_tone(comment, make_user(role), "negative")
    with pytest.raises(InvalidInput):
        corrections.correct_tone(comment, moderator, "furious")
    corrections.correct_tone(comment, make_user("admin"), "neutral")
    assert comment.sentiment_label == "neutral"


# --- the analyser measured on the corrections ------------------------------------------


class KeywordAnalyser:
    """Positive when the text says "good", negative for "bad", else neutral."""

    def score(self, text: str) -> float:
        lowered = text.lower()
        return 0.6 if "good" in lowered else -0.6 if "bad" in lowered else 0.0


def _corrected(db, article, author, moderator, body, label):
    comment = add_comment(db, article, author, 0.0, "neutral", D1)
    comment.body = body
    corrections.correct_tone(comment, moderator, label)
    return comment


def test_evaluate_compares_the_analyser_with_the_moderators_latest_labels(
    app, db, make_user, make_article, moderator
):
    from webapp.services.insights import sentiment

    app.config["SENTIMENT_ANALYSER"] = KeywordAnalyser
    sentiment.clear_cache()
    try:
        article = make_article("Cup final")
        author = make_user()
        _corrected(db, article, author, moderator, "A good match", "positive")  # right
        _corrected(db, article, author, moderator, "Not bad at all", "positive")  # wrong
        _corrected(db, article, author, moderator, "The bad referee", "negative")  # right
        changed = _corrected(db, article, author, moderator, "Kick-off at eight", "negative")
        corrections.correct_tone(changed, moderator, "neutral")  # the latest label counts
        db.session.commit()
        found = corrections.evaluate(batch=2)
    finally:
        sentiment.clear_cache()
    assert found.analyser.endswith(":KeywordAnalyser")
    assert found.count == 4
    assert found.accuracy == pytest.approx(3 / 4)
    assert found.confusion["positive"] == {"positive": 1, "neutral": 0, "negative": 1}
    assert found.confusion["negative"] == {"positive": 0, "neutral": 0, "negative": 1}
    assert found.confusion["neutral"] == {"positive": 0, "neutral": 1, "negative": 0}
    # F1: positive 2/3 (precision 1, recall 1/2), neutral 1, negative 2/3.
    assert found.macro_f1 == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)


def test_evaluate_with_no_corrections_counts_none(app, db):
    found = corrections.evaluate()
    assert (found.count, found.accuracy, found.macro_f1) == (0, 0.0, 0.0)


def test_evaluate_scores_with_the_articles_topic_words(app, db, make_user, make_article, moderator):
    """Plain VADER reads "peace" as +2.5; scored as the site scores it, with the article's
    subject carrying no valence, the sentence is no longer called positive."""
    from webapp.services.insights import sentiment

    app.config["SENTIMENT_ANALYSER"] = VADER
    sentiment.clear_cache()
    try:
        article = make_article("Will the fragile peace hold")
        _corrected(db, article, make_user(), moderator, "This peace won't last a week", "negative")
        db.session.commit()
        found = corrections.evaluate()
        assert sentiment.analyse("This peace won't last a week").label == "positive"
    finally:
        sentiment.clear_cache()
    assert found.count == 1
    assert found.confusion["negative"]["positive"] == 0


def test_rescoring_leaves_a_corrected_comment_alone(db, make_user, make_article, moderator):
    from webapp.services.insights.sentiment import rescore_comments

    article = make_article("Cup final")
    corrected = add_comment(db, article, make_user(), 0.0, "neutral", D1)
    corrected.body = "What a wonderful, brilliant match"  # VADER: strongly positive
    other = add_comment(db, article, make_user(), 0.0, "neutral", D1)
    other.body = corrected.body
    corrections.correct_tone(corrected, moderator, "negative")
    db.session.commit()

    rescore_comments()
    db.session.expire_all()
    assert (corrected.sentiment_label, corrected.sentiment) == ("negative", -0.5)
    assert other.sentiment_label == "positive"  # the same text, not corrected
    assert counters.recount(fix=False) == []
