"""How far editors can trust the tone figures: the configured analyser's measured
accuracy, as the evaluation (``bench/sentiment_eval.py``) last wrote it.

The evaluation writes its figures per analyser ("module:Class") and per labelled set
(accuracy and macro-F1) to ``bench/results/sentiment-latest.json`` and a copy beside
this module (``accuracy.json``, package data, so an installed wheel without ``bench/``
still knows them). They are read once per process (the file changes only with a
release). An analyser the files do not name, or no file at all, is "accuracy not
measured": a figure is never guessed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app

from webapp.services.insights.sentiment import DEFAULT_ANALYSER

logger = logging.getLogger(__name__)

#: Where the figures are looked for, first found first: the package's copy, then the
#: evaluation's own output in a source checkout.
FIGURE_FILES: tuple[Path, ...] = (
    Path(__file__).with_name("accuracy.json"),
    Path(__file__).resolve().parents[3] / "bench" / "results" / "sentiment-latest.json",
)

#: What the sentence calls the analysers the project ships.
ANALYSER_NAMES = {
    "webapp.services.insights.sentiment:VaderAnalyser": "VADER",
    "webapp.services.insights.sentiment:PlainVaderAnalyser": "VADER as shipped",
    "webapp.services.insights.minilm:MiniLMAnalyser": "MiniLM",
}


#: What prose calls the evaluation's sets (bench/sentiment_eval.py).
SET_NAMES = {
    "news": "news comments",
    "news_plain": "news comments scored without topic words",
    "vader_test": "VADER's human-rated test sentences",
}


@dataclass(frozen=True)
class SetFigures:
    """One labelled set's figures for one analyser."""

    name: str
    accuracy: float
    macro_f1: float | None = None
    size: int | None = None

    @property
    def is_news(self) -> bool:
        return "news" in self.name.lower()

    @property
    def described(self) -> str:
        """The set as prose says it (``SET_NAMES``, else its name without underscores)."""
        return SET_NAMES.get(self.name) or self.name.replace("_", " ").replace("-", " ")


@dataclass(frozen=True)
class Accuracy:
    """The configured analyser and what was measured of it (``sets`` empty: nothing)."""

    analyser: str  # "module:Class"
    name: str  # "VADER, topic-aware"
    sets: tuple[SetFigures, ...] = ()

    @property
    def headline(self) -> SetFigures | None:
        """The set the sentence quotes: news comments as the site scores them where
        measured (``news``), else another news set, else the first."""
        for figures in self.sets:
            if figures.name == "news":
                return figures
        for figures in self.sets:
            if figures.is_news:
                return figures
        return self.sets[0] if self.sets else None

    @property
    def sentence(self) -> str:
        """``Tone is indicative: measured 61 % on news sentences (VADER, topic-aware)``."""
        top = self.headline
        if top is None:
            return f"Tone is indicative: accuracy not measured ({self.name})."
        return (
            f"Tone is indicative: measured {top.accuracy * 100:.0f} % on "
            f"{top.described} ({self.name})."
        )


def analyser_key(spec: object | None = None) -> str:
    """The "module:Class" of ``spec`` (default: ``SENTIMENT_ANALYSER``), which may be an
    import path or a class (tests configure classes)."""
    if spec is None:
        spec = current_app.config.get("SENTIMENT_ANALYSER") or DEFAULT_ANALYSER
    if isinstance(spec, str):
        return spec.strip()
    cls = spec if isinstance(spec, type) else type(spec)
    return f"{cls.__module__}:{cls.__qualname__}"


def _is_topic_aware(key: str) -> bool:
    """Whether the analyser's class scores with topic words (without building it)."""
    module_name, _, class_name = key.partition(":")
    try:
        module = __import__(module_name, fromlist=[class_name])
        cls = getattr(module, class_name)
    except (ImportError, AttributeError):
        return False
    return callable(getattr(cls, "score_in_topic", None))


def display_name(key: str) -> str:
    name = ANALYSER_NAMES.get(key) or key.rpartition(":")[2] or key
    return f"{name}, topic-aware" if _is_topic_aware(key) else name


def _sets(entry: Any) -> Iterable[SetFigures]:
    """An analyser's entry: ``{"sets": {name: figures}}`` or ``{name: figures}``."""
    if not isinstance(entry, Mapping):
        return
    sets = entry.get("sets", entry)
    if not isinstance(sets, Mapping):
        return
    for name, figures in sets.items():
        if not isinstance(figures, Mapping) or not isinstance(figures.get("accuracy"), int | float):
            continue
        f1 = figures.get("macro_f1")
        size = figures.get("n", figures.get("count"))
        yield SetFigures(
            name=str(name),
            accuracy=float(figures["accuracy"]),
            macro_f1=float(f1) if isinstance(f1, int | float) else None,
            size=int(size) if isinstance(size, int) else None,
        )


def parse(document: Any) -> dict[str, tuple[SetFigures, ...]]:
    """Each analyser's figures in an evaluation file: ``{"analysers": {key: entry}}``,
    or a list of ``{"analyser", "set", "accuracy", "macro_f1"}`` rows under
    ``"results"``. Anything else reads as nothing measured."""
    found: dict[str, list[SetFigures]] = {}
    if not isinstance(document, Mapping):
        return {}
    analysers = document.get("analysers")
    if isinstance(analysers, Mapping):
        for key, entry in analysers.items():
            found.setdefault(str(key), []).extend(_sets(entry))
    rows = document.get("results")
    if isinstance(rows, list):
        for row in rows:
            if isinstance(row, Mapping) and "analyser" in row and "set" in row:
                found.setdefault(str(row["analyser"]), []).extend(_sets({str(row["set"]): row}))
    return {key: tuple(sets) for key, sets in found.items() if sets}


@cache
def _figures(path: Path) -> dict[str, tuple[SetFigures, ...]]:
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("Cannot read the sentiment evaluation's figures in %s: %s", path, error)
        return {}


def clear_cache() -> None:
    """Forget the figures read, so the next call reads the files again (tests)."""
    _figures.cache_clear()


def for_analyser(key: str | None = None, files: Iterable[Path] | None = None) -> Accuracy:
    """The figures of ``key`` (default: the configured analyser) from the first file
    that names it."""
    key = key or analyser_key()
    for path in files if files is not None else FIGURE_FILES:
        sets = _figures(path).get(key)
        if sets:
            return Accuracy(analyser=key, name=display_name(key), sets=sets)
    return Accuracy(analyser=key, name=display_name(key))
