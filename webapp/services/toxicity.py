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
from typing import Protocol, runtime_checkable

from webapp.services.pluggable import Pluggable

log = logging.getLogger(__name__)

DEFAULT_SCORER = "webapp.services.toxicity:ProfanityCheckScorer"


@runtime_checkable
class ToxicityScorer(Protocol):
    """Anything that gives the probability, 0 to 1, that a text is toxic."""

    def score(self, text: str) -> float: ...


class ProfanityCheckScorer:
    """alt-profanity-check's probability that a text is offensive.

    Importing ``profanity_check`` unpickles its vectoriser and model (most of
    a second, and scikit-learn with it), so the import waits for the first
    instance, and ``get_scorer`` makes one instance per process. Worker
    processes that should not pay this on their first comment can call
    ``get_scorer()`` at start-up.
    """

    def __init__(self) -> None:
        started = time.perf_counter()
        from profanity_check import predict_prob

        self._predict_prob = predict_prob
        log.info("Loaded the profanity-check model in %.2fs", time.perf_counter() - started)

    def score(self, text: str) -> float:
        if not text.strip():
            # The model gives an empty text a small non-zero probability; nothing is nothing.
            return 0.0
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
