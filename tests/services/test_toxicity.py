from __future__ import annotations

import math
import random
import subprocess
import sys

import pytest
from profanity_check import predict_prob
from werkzeug.utils import ImportStringError

from webapp.services.moderation import toxicity as toxicity_service
from webapp.services.moderation.toxicity import (
    LinearProfanityModel,
    ProfanityCheckScorer,
    get_scorer,
    toxicity,
)

ABUSIVE = "You are a fucking idiot, shut your stupid mouth."
POLITE = "Thank you for this thoughtful and well researched article."


class FakeScorer:
    instances = 0
    texts: list[str] = []

    def __init__(self) -> None:
        FakeScorer.instances += 1

    def score(self, text: str) -> float:
        FakeScorer.texts.append(text)
        return 0.7


class WildScorer:
    def score(self, text: str) -> float:
        return {"high": 4.0, "low": -2.0}.get(text, math.nan)


@pytest.fixture(autouse=True)
def fresh_scorers():
    toxicity_service.clear_cache()
    FakeScorer.instances = 0
    FakeScorer.texts = []
    yield
    toxicity_service.clear_cache()


def test_abusive_sentence_scores_high():
    assert toxicity(ABUSIVE) > 0.9


def test_polite_sentence_scores_low():
    assert toxicity(POLITE) < 0.1


def test_disagreement_is_not_toxicity():
    assert toxicity("I strongly disagree with the author's conclusion.") < 0.2


def test_score_is_the_models_probability():
    for text in (ABUSIVE, POLITE):
        assert toxicity(text) == pytest.approx(float(predict_prob([text])[0]))


# Texts of every kind the direct evaluation must agree on: ordinary comments, abuse,
# words outside the vocabulary only (a zero row), repeated words, accents and emoji,
# Markdown and links, a very long text.
SAMPLES = [
    ABUSIVE,
    POLITE,
    "I strongly disagree with the author's conclusion.",
    "The truce stopped the shelling, and that matters. But nothing was settled.",
    "> The ceasefire will hold\n\nIt held last time for almost **two years**.",
    "I read it on [the ministry's site](https://example.org/statement).",
    "shit shit SHIT, damn it",
    "Ünïcödé crap 💩 and a naïve café",
    "zzzqqq xxyyzz",
    "the the the and of",
    "x",
    "idiot " * 800,
]


def random_texts(count: int = 300) -> list[str]:
    rng = random.Random(4)
    words = [
        "you",
        "are",
        "an",
        "idiot",
        "stupid",
        "fuck",
        "great",
        "article",
        "peace",
        "war",
        "hate",
        "love",
        "damn",
        "class",
    ]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_direct_evaluation_is_the_libraries_probability_bit_for_bit():
    scorer = ProfanityCheckScorer()
    assert scorer._model is not None, "the packaged model was not recognised"
    texts = SAMPLES + random_texts()
    expected = [float(p) for p in predict_prob(texts)]
    assert [scorer._model.probability(text) for text in texts] == expected
    assert [scorer.score(text) for text in texts] == expected


def test_an_unrecognised_model_falls_back_to_the_library():
    from profanity_check import profanity_check as package

    assert LinearProfanityModel.from_estimators(package.vectorizer, object()) is None
    assert LinearProfanityModel.from_estimators(object(), package.model) is None
    scorer = ProfanityCheckScorer()
    scorer._model = None
    assert scorer.score(ABUSIVE) == float(predict_prob([ABUSIVE])[0])


def test_empty_text_is_not_toxic():
    assert toxicity("") == 0.0
    assert toxicity("   \n") == 0.0


def test_default_scorer_is_built_once():
    scorer = get_scorer()
    assert isinstance(scorer, ProfanityCheckScorer)
    assert get_scorer() is scorer


def test_importing_the_service_does_not_load_the_model():
    # A fresh interpreter: in this one the model is already loaded by the tests above.
    code = (
        "import sys, webapp.services.moderation.toxicity; "
        "assert 'profanity_check' not in sys.modules; "
        "assert 'sklearn' not in sys.modules; "
        "webapp.services.moderation.toxicity.get_scorer(); "
        "assert 'profanity_check' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_configured_scorer_replaces_the_model(make_app):
    app = make_app(TOXICITY_SCORER="tests.services.test_toxicity:FakeScorer")
    with app.app_context():
        assert isinstance(get_scorer(), FakeScorer)
        assert toxicity(POLITE) == 0.7
        assert toxicity(ABUSIVE) == 0.7
    assert FakeScorer.texts == [POLITE, ABUSIVE]
    assert FakeScorer.instances == 1
    with make_app().app_context():
        assert isinstance(get_scorer(), ProfanityCheckScorer)


def test_configured_scorer_is_kept_within_range(make_app):
    with make_app(TOXICITY_SCORER=WildScorer).app_context():
        assert toxicity("high") == 1.0
        assert toxicity("low") == 0.0
        with pytest.raises(ValueError):
            toxicity("anything else")


def test_misconfigured_scorer_fails_loudly(make_app):
    not_a_scorer = make_app(TOXICITY_SCORER="collections:OrderedDict")
    with not_a_scorer.app_context(), pytest.raises(TypeError, match="score"):
        get_scorer()
    missing = make_app(TOXICITY_SCORER="tests.services.test_toxicity:Nope")
    with missing.app_context(), pytest.raises(ImportStringError):
        get_scorer()
