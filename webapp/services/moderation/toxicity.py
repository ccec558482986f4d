"""Comment toxicity: the probability in [0, 1] that a text is abusive or profane.

The scorer sits behind the small ``ToxicityScorer`` protocol so that the
default (alt-profanity-check, a linear model shipped inside its package: no
network, a few milliseconds a comment) can be swapped for another one through
the ``TOXICITY_SCORER`` setting without touching the comment pipeline.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Protocol, runtime_checkable

from webapp.services.pluggable import Pluggable

log = logging.getLogger(__name__)

DEFAULT_SCORER = "webapp.services.moderation.toxicity:ProfanityCheckScorer"


@runtime_checkable
class ToxicityScorer(Protocol):
    """Anything that gives the probability, 0 to 1, that a text is toxic."""

    def score(self, text: str) -> float: ...


class LinearProfanityModel:
    """alt-profanity-check's model evaluated directly, with the same arithmetic.

    The package's ``predict_prob`` runs scikit-learn's TF-IDF vectoriser and then a
    ``CalibratedClassifierCV`` of linear SVMs with sigmoid calibration; for one short
    text nearly all of its ~3 ms go to scikit-learn checking its input, not to the
    model. This does exactly what those estimators compute, in the same order of
    floating-point operations (so the probability is the same number, bit for bit,
    which the tests check against ``predict_prob``), in a few tens of microseconds:

    - the vectoriser's analyser gives the tokens; counts of those in the vocabulary,
      in column order, times their idf, divided by the L2 norm (a zero row stays zero);
    - for each of the calibrated classifiers: the decision ``x . coef + intercept``,
      then the calibration's ``expit(-(a * decision + b))``;
    - the mean of those probabilities, summed in order and divided by their number.

    ``from_estimators`` returns None for any model it does not recognise (another
    version of the package, other settings), and the scorer then calls
    ``predict_prob`` as before.
    """

    def __init__(
        self,
        analyze: Any,
        vocabulary: dict[str, int],
        idf: list[float],
        classifiers: list[tuple[Any, float, float, float]],
    ) -> None:
        self._analyze = analyze
        self._vocabulary = vocabulary
        self._idf = idf
        # (coefficients as a float list, intercept, calibration a, calibration b)
        self._classifiers = classifiers

    @classmethod
    def from_estimators(cls, vectorizer: Any, model: Any) -> LinearProfanityModel | None:
        try:
            import numpy as np
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.feature_extraction.text import TfidfVectorizer

            if type(vectorizer) is not TfidfVectorizer or type(model) is not CalibratedClassifierCV:
                return None
            settings = vectorizer.get_params()
            if (
                settings["analyzer"] != "word"
                or settings["binary"]
                or settings["norm"] != "l2"
                or not settings["use_idf"]
                or settings["sublinear_tf"]
                or settings["dtype"] is not np.float64
                or list(model.classes_) != [0, 1]
            ):
                return None
            classifiers = []
            for calibrated in model.calibrated_classifiers_:
                estimator = calibrated.estimator
                coef = np.asarray(estimator.coef_)
                intercept = np.asarray(estimator.intercept_)
                if (
                    calibrated.method != "sigmoid"
                    or list(calibrated.classes) != [0, 1]
                    or list(estimator.classes_) != [0, 1]
                    or len(calibrated.calibrators) != 1
                    or coef.shape != (1, len(vectorizer.vocabulary_))
                    or coef.dtype != np.float64
                    or intercept.shape != (1,)
                ):
                    return None
                calibrator = calibrated.calibrators[0]
                classifiers.append(
                    (
                        coef[0].tolist(),
                        float(intercept[0]),
                        float(calibrator.a_),
                        float(calibrator.b_),
                    )
                )
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            if not classifiers or idf.shape != (len(vectorizer.vocabulary_),):
                return None
            return cls(
                vectorizer.build_analyzer(),
                {str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                idf.tolist(),
                classifiers,
            )
        except Exception:  # any surprise in the pickled objects: use predict_prob
            log.warning("The profanity-check model has an unexpected shape", exc_info=True)
            return None

    def probability(self, text: str) -> float:
        import numpy as np
        from scipy.special import expit

        vocabulary = self._vocabulary
        counts: dict[int, int] = {}
        for token in self._analyze(text):
            column = vocabulary.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = sorted(counts)
        idf = self._idf
        values = [float(counts[j]) * idf[j] for j in columns]
        squares = 0.0
        for value in values:
            squares += value * value
        if squares != 0.0:
            norm = math.sqrt(squares)
            values = [value / norm for value in values]
        arguments = []
        for coef, intercept, a, b in self._classifiers:
            decision = 0.0
            for j, value in zip(columns, values, strict=True):
                decision += value * coef[j]
            decision += intercept
            arguments.append(-(a * decision + b))
        total = 0.0
        for probability in expit(np.array(arguments, dtype=np.float64)).tolist():
            total += probability
        return total / len(self._classifiers)


class ProfanityCheckScorer:
    """alt-profanity-check's probability that a text is offensive.

    Importing ``profanity_check`` unpickles its vectoriser and model (most of
    a second, and scikit-learn with it), so the import waits for the first
    instance, and ``get_scorer`` makes one instance per process. Worker
    processes that should not pay this on their first comment can call
    ``get_scorer()`` at start-up. The model is evaluated directly (see
    ``LinearProfanityModel``), giving ``predict_prob``'s number without its cost.
    """

    def __init__(self) -> None:
        started = time.perf_counter()
        from profanity_check import profanity_check as package

        self._predict_prob = package.predict_prob
        self._model = LinearProfanityModel.from_estimators(package.vectorizer, package.model)
        log.info("Loaded the profanity-check model in %.2fs", time.perf_counter() - started)

    def score(self, text: str) -> float:
        if not text.strip():
            # The model gives an empty text a small non-zero probability; nothing is nothing.
            return 0.0
        if self._model is not None:
            return self._model.probability(text)
        return float(self._predict_prob([text])[0])


_scorers: Pluggable[ToxicityScorer] = Pluggable(
    "TOXICITY_SCORER", DEFAULT_SCORER, ToxicityScorer, "Toxicity scorer"
)


def get_scorer() -> ToxicityScorer:
    """The scorer named by ``TOXICITY_SCORER`` (an import path ``"module:Class"`` or the
    class itself, called with no arguments), built once per process."""
    return _scorers.get()


def clear_cache() -> None:
    """Forget built scorers, so the next call builds the configured one afresh."""
    _scorers.clear()


def toxicity(text: str) -> float:
    """The configured scorer's probability that ``text`` is toxic, kept within [0, 1].

    A custom scorer straying outside [0, 1] is clipped so thresholds compare
    sanely; a NaN is a bug in that scorer and is refused.
    """
    value = float(get_scorer().score(text))
    if math.isnan(value):
        raise ValueError("the toxicity scorer returned NaN")
    return max(0.0, min(1.0, value))
