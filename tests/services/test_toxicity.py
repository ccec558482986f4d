from __future__ import annotations

import math
import subprocess
import sys

import pytest
from profanity_check import predict_prob
from werkzeug.utils import ImportStringError

from webapp.services import toxicity as toxicity_service
from webapp.services.toxicity import ProfanityCheckScorer, get_scorer, toxicity

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
        "import sys, webapp.services.toxicity; "
        "assert 'profanity_check' not in sys.modules; "
        "assert 'sklearn' not in sys.modules; "
        "webapp.services.toxicity.get_scorer(); "
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
