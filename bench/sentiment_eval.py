"""How often a sentiment analyser gives a comment the label people give it.

    .venv/bin/python bench/sentiment_eval.py                      # the configured analyser
    .venv/bin/python bench/sentiment_eval.py \\
        --analyser webapp.services.insights.sentiment:VaderAnalyser \\
        --analyser webapp.services.insights.minilm:MiniLMAnalyser     # compare in one run
    .venv/bin/python bench/sentiment_eval.py --sets news --json   # offline, JSON on stdout

Each analyser ("module:Class", built with no arguments; default: the
``SENTIMENT_ANALYSER`` environment setting, else the site's default analyser) is
measured on

- ``vader_test``: the held-out 30 % of the human-rated sentences shipped with the
  vaderSentiment sdist (NYT editorial sentences, tweets, movie and product review
  snippets; split by editorial and review so none is on both sides: see
  bench/sentiment_data.py, which fetches the sdist with pip on first use);
- ``news``: the project's 364 news comments (bench/data/news_comments.csv, labelled
  by bench/data/LABELLING.md before any analyser ran). An analyser with
  ``score_in_topic`` gets each comment's topic words from its article's title, poll
  question, options and labels and the site-wide list a new site starts with
  (``topics.topic_words_from``, as the site computes them); it is then also
  measured with plain ``score`` as ``news_plain``, so the table shows what the topic
  words change. Without ``topics.topic_words_from`` every analyser uses ``score``,
  and the report says so.

Scores go through the same steps as a comment's on the site: ``text_for_analysis``,
clipped to [-1, 1], labelled by ``label_for``. For each set it reports accuracy,
macro-F1 (the mean of the three classes' F1, so the neutral class counts as much
as the others however rare it is), the confusion matrix, the share of comments
called positive against the true share, and milliseconds per comment: the median
over the run of the time spent in the analyser only (one call per comment, or per
batch of 64 divided by its size for analysers with ``score_many``, as the job
runner calls them).

Writes bench/results/sentiment-latest.md (the tables) and sentiment-latest.json
(per analyser and set: n, accuracy, macro_f1, confusion, shares, ms per comment).
With ``--publish`` it also records each measured analyser's accuracy and macro-F1
per set in webapp/services/insights/accuracy.json, which is committed and shipped:
what the editors' "measured N % on news sentences" line reads. Analysers measured
before and not in this run keep their entries there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess  # nosec B404 - git rev-parse, fixed arguments
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sentiment_data import (  # noqa: E402
    LABELS,
    POSITIVE,
    RATING_BAND,
    TEST_SHARE,
    DataUnavailable,
    Example,
    NewsTopic,
    news_comments,
    vader_ground_truth,
)

RESULTS = ROOT / "bench" / "results"
#: The figures the site shows editors (webapp/services/insights/accuracy.py reads them).
PUBLISHED = ROOT / "webapp" / "services" / "insights" / "accuracy.json"
#: Measured when neither --analyser nor SENTIMENT_ANALYSER names one and the site's
#: default cannot be read.
FALLBACK_ANALYSER = "webapp.services.insights.sentiment:VaderAnalyser"
BATCH = 64

#: Set name -> what it is, for the report.
SET_NAMES = {
    "vader_test": "vaderSentiment ground truth, held-out 30 % (by editorial/review)",
    "news": "news comments (topic words when the analyser takes them)",
    "news_plain": "news comments, plain score (no topic words)",
}


# --- metrics (pure) -----------------------------------------------------------------------

Confusion = list[list[int]]


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS
) -> Confusion:
    """Rows are the true labels, columns the predicted ones, both in ``labels`` order."""
    if len(truth) != len(predicted):
        raise ValueError("one prediction per true label")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for true, guess in zip(truth, predicted, strict=True):
        matrix[index[true]][index[guess]] += 1
    return matrix


def accuracy(matrix: Confusion) -> float:
    total = sum(map(sum, matrix))
    return sum(matrix[i][i] for i in range(len(matrix))) / total if total else 0.0


def f1_scores(matrix: Confusion) -> list[float]:
    """Each class's F1, 2TP / (2TP + FP + FN): 0 for a class never true nor predicted."""
    scores = []
    for i in range(len(matrix)):
        true_positive = matrix[i][i]
        false_negative = sum(matrix[i]) - true_positive
        false_positive = sum(row[i] for row in matrix) - true_positive
        denominator = 2 * true_positive + false_positive + false_negative
        scores.append(2 * true_positive / denominator if denominator else 0.0)
    return scores


def macro_f1(matrix: Confusion) -> float:
    scores = f1_scores(matrix)
    return sum(scores) / len(scores) if scores else 0.0


def share(matrix: Confusion, label_index: int, *, predicted: bool) -> float:
    """The share of rows predicted as (or truly) the label at ``label_index``."""
    total = sum(map(sum, matrix))
    if not total:
        return 0.0
    count = sum(row[label_index] for row in matrix) if predicted else sum(matrix[label_index])
    return count / total


# --- running an analyser ------------------------------------------------------------------


@dataclass
class SetResult:
    name: str
    scoring: str
    matrix: Confusion
    ms_per_comment: float
    by_source: dict[str, Confusion] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return sum(map(sum, self.matrix))

    def as_json(self) -> dict[str, Any]:
        positive = LABELS.index(POSITIVE)
        return {
            "n": self.n,
            "scoring": self.scoring,
            "accuracy": round(accuracy(self.matrix), 4),
            "macro_f1": round(macro_f1(self.matrix), 4),
            "f1": dict(zip(LABELS, (round(f, 4) for f in f1_scores(self.matrix)), strict=True)),
            "confusion": {"labels": list(LABELS), "rows_true_columns_predicted": self.matrix},
            "predicted_positive_share": round(share(self.matrix, positive, predicted=True), 4),
            "true_positive_share": round(share(self.matrix, positive, predicted=False), 4),
            "ms_per_comment": round(self.ms_per_comment, 4),
            "by_source": {
                source: {
                    "n": sum(map(sum, matrix)),
                    "accuracy": round(accuracy(matrix), 4),
                    "macro_f1": round(macro_f1(matrix), 4),
                }
                for source, matrix in self.by_source.items()
            },
        }


TopicWordsFrom = Callable[..., frozenset[str]]

#: The site-wide topic words a new site starts with (the migration that creates the
#: list, 2026_12_03_a1b3c5d7e9f1_sentiment_topic_words.py, STARTING_WORDS; a test keeps
#: the two equal): the news set is scored as a fresh site would score it.
SITE_TOPIC_WORDS = ("party", "security", "united")


def find_topic_words_from() -> TopicWordsFrom | None:
    """The site's topic-word rule, if this checkout has it."""
    try:
        from webapp.services.insights import topics
    except ImportError:
        return None
    found: TopicWordsFrom | None = getattr(topics, "topic_words_from", None)
    return found


def configured_analyser() -> str:
    """What the site scores with when nothing else is said: SENTIMENT_ANALYSER from the
    environment, else the site's own default (so the plain command follows a change of
    default)."""
    configured = os.environ.get("SENTIMENT_ANALYSER", "").strip()
    if configured:
        return configured
    try:
        from webapp.services.insights.sentiment import DEFAULT_ANALYSER
    except ImportError:
        return FALLBACK_ANALYSER
    return DEFAULT_ANALYSER


def build_analyser(spec: str) -> object:
    from werkzeug.utils import import_string

    try:
        analyser = import_string(spec)()
    except Exception as error:  # an analyser's own failure to build, said plainly
        raise SystemExit(f"cannot build {spec}: {error}") from error
    if not callable(getattr(analyser, "score", None)):
        raise SystemExit(f"{spec} has no score(text) method")
    return analyser


def score_examples(
    analyser: object, texts: Sequence[str], topic_words: Sequence[frozenset[str]] | None
) -> tuple[list[float], list[float]]:
    """Raw scores in the texts' order, and milliseconds per comment for each timed call.

    Only the analyser's own call is inside the timer: the text preparation and the
    topic words are made beforehand.
    """
    many = getattr(analyser, "score_many_in_topic" if topic_words else "score_many", None)
    scores: list[float] = []
    timings: list[float] = []
    if callable(many):
        for start in range(0, len(texts), BATCH):
            chunk = list(texts[start : start + BATCH])
            args: tuple[Any, ...] = (chunk,)
            if topic_words is not None:
                args = (chunk, list(topic_words[start : start + BATCH]))
            began = time.perf_counter()
            found = many(*args)
            timings.append((time.perf_counter() - began) * 1000 / len(chunk))
            scores.extend(float(s) for s in found)
        return scores, timings
    one: Callable[..., float] = getattr(analyser, "score_in_topic" if topic_words else "score")
    for i, text in enumerate(texts):
        args = (text,) if topic_words is None else (text, topic_words[i])
        began = time.perf_counter()
        value = one(*args)
        timings.append((time.perf_counter() - began) * 1000)
        scores.append(float(value))
    return scores, timings


def measure(
    analyser: object,
    name: str,
    examples: Sequence[Example],
    topic_words: Sequence[frozenset[str]] | None = None,
) -> SetResult:
    from webapp.services.insights.sentiment import label_for, text_for_analysis

    texts = [text_for_analysis(example.text) for example in examples]
    raw, timings = score_examples(analyser, texts, topic_words)
    predicted = []
    for value in raw:
        if value != value:  # NaN: the site refuses it too
            raise SystemExit(f"{name}: the analyser returned NaN")
        predicted.append(label_for(max(-1.0, min(1.0, value))))
    truth = [example.label for example in examples]
    by_source: dict[str, tuple[list[str], list[str]]] = {}
    for example, guess in zip(examples, predicted, strict=True):
        pair = by_source.setdefault(example.source, ([], []))
        pair[0].append(example.label)
        pair[1].append(guess)
    scoring = "score_in_topic" if topic_words is not None else "score"
    if callable(getattr(analyser, "score_many_in_topic" if topic_words else "score_many", None)):
        scoring += f" (batches of {BATCH})"
    return SetResult(
        name=name,
        scoring=scoring,
        matrix=confusion_matrix(truth, predicted),
        ms_per_comment=statistics.median(timings) if timings else 0.0,
        by_source={source: confusion_matrix(*pair) for source, pair in sorted(by_source.items())}
        if len(by_source) > 1
        else {},
    )


def topic_words_of(examples: Sequence[Example], rule: TopicWordsFrom) -> list[frozenset[str]]:
    cache: dict[str, frozenset[str]] = {}

    def words(topic: NewsTopic | None) -> frozenset[str]:
        if topic is None:
            return frozenset()
        if topic.id not in cache:
            cache[topic.id] = rule(
                topic.title, topic.question, topic.options, topic.labels, SITE_TOPIC_WORDS
            )
        return cache[topic.id]

    return [words(example.topic) for example in examples]


def evaluate(
    specs: Sequence[str],
    sets: Sequence[str],
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure every analyser on every set; the JSON report."""
    data: dict[str, list[Example]] = {}
    if "vader" in sets:
        data["vader_test"] = vader_ground_truth("test")
    if "news" in sets:
        data["news"] = news_comments()
    rule = find_topic_words_from()
    if "news" in data:
        log(
            "topic words: webapp.services.insights.topics.topic_words_from"
            if rule
            else "topic words: topics.topic_words_from not found, every analyser uses score()"
        )
    report: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "commit": _commit(),
        "label_rule": {
            "vader_test": f"mean rating > {RATING_BAND} positive, < -{RATING_BAND} negative, "
            "else neutral",
            "predicted": "webapp.services.insights.sentiment.label_for on the clipped score",
        },
        "sets": {name: SET_NAMES[name] for name in data}
        | ({"news_plain": SET_NAMES["news_plain"]} if "news" in data else {}),
        "topic_words": "topics.topic_words_from" if rule else None,
        "analysers": {},
    }
    for spec in specs:
        log(f"measuring {spec} ...")
        analyser = build_analyser(spec)
        results: dict[str, SetResult] = {}
        if "vader_test" in data:
            results["vader_test"] = measure(analyser, "vader_test", data["vader_test"])
        if "news" in data:
            examples = data["news"]
            if rule is not None and callable(getattr(analyser, "score_in_topic", None)):
                results["news"] = measure(
                    analyser, "news", examples, topic_words_of(examples, rule)
                )
                results["news_plain"] = measure(analyser, "news_plain", examples)
            else:
                results["news"] = measure(analyser, "news", examples)
        for result in results.values():
            log(
                f"  {result.name}: accuracy {accuracy(result.matrix):.3f}, "
                f"macro-F1 {macro_f1(result.matrix):.3f} ({result.scoring})"
            )
        report["analysers"][spec] = {
            "name": spec.rsplit(":", 1)[-1].rsplit(".", 1)[-1],
            "fast": bool(getattr(analyser, "fast", True)),
            "sets": {name: result.as_json() for name, result in results.items()},
        }
    return report


def _commit() -> str | None:
    try:
        found = subprocess.run(  # nosec B603 B607
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return found.stdout.strip() or None


# --- the report ---------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| analyser | set | n | accuracy | macro-F1 | called positive (true) | ms/comment |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for entry in report["analysers"].values():
        for name, result in entry["sets"].items():
            set_name = name + (
                " (topic words)" if result["scoring"].startswith("score_in_topic") else ""
            )
            lines.append(
                f"| {entry['name']} | {set_name} | {result['n']} | {result['accuracy']:.3f} | "
                f"{result['macro_f1']:.3f} | {_pct(result['predicted_positive_share'])} "
                f"({_pct(result['true_positive_share'])}) | {result['ms_per_comment']:.2f} |"
            )
    lines += ["", "By corpus of the held-out vaderSentiment sentences (accuracy / macro-F1):", ""]
    sources = sorted(
        {
            source
            for entry in report["analysers"].values()
            for source in entry["sets"].get("vader_test", {}).get("by_source", {})
        }
    )
    if sources:
        lines.append("| analyser | " + " | ".join(f"{s}" for s in sources) + " |")
        lines.append("|---|" + "---:|" * len(sources))
        for entry in report["analysers"].values():
            by_source = entry["sets"].get("vader_test", {}).get("by_source", {})
            cells = [
                "-"
                if s not in by_source
                else f"{by_source[s]['accuracy']:.3f} / "
                f"{by_source[s]['macro_f1']:.3f} (n={by_source[s]['n']})"
                for s in sources
            ]
            lines.append(f"| {entry['name']} | " + " | ".join(cells) + " |")
    else:
        lines.pop()
        lines.pop()
        lines.pop()
    lines += [
        "",
        "Confusion matrices (rows: true label, columns: predicted; positive / neutral / negative):",
        "",
    ]
    for entry in report["analysers"].values():
        for name, result in entry["sets"].items():
            rows = result["confusion"]["rows_true_columns_predicted"]
            matrix_text = "; ".join(
                f"{label} -> {' / '.join(str(n) for n in row)}"
                for label, row in zip(LABELS, rows, strict=True)
            )
            lines.append(f"- {entry['name']}, {name} ({result['scoring']}): {matrix_text}")
    return "\n".join(lines) + "\n"


def full_markdown(report: dict[str, Any]) -> str:
    header = [
        "# Sentiment accuracy (bench/sentiment_eval.py)",
        "",
        f"Run {report['generated_at']} at commit {report['commit'] or 'unknown'}.",
        "",
        *[f"- **{name}**: {text}" for name, text in report["sets"].items()],
        f"- vader_test labels: {report['label_rule']['vader_test']}; "
        f"test share {int(TEST_SHARE * 100)} % of editorials/reviews/tweets/snippets.",
        f"- topic words: {report['topic_words'] or 'not available (plain score only)'}.",
        "",
        "",
    ]
    return "\n".join(header) + markdown(report)


def publish(report: dict[str, Any], path: Path = PUBLISHED) -> None:
    """Merge this run's figures into the shipped file, analyser by analyser."""
    try:
        published: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        published = {}
    published["about"] = (
        "Written by bench/sentiment_eval.py --publish: each analyser's accuracy and "
        "macro-F1 per labelled set (bench/results/sentiment-latest.md explains the sets)."
    )
    analysers = published.setdefault("analysers", {})
    for spec, entry in report["analysers"].items():
        analysers[spec] = {
            "name": entry["name"],
            "measured_at": report["generated_at"],
            "commit": report["commit"],
            "sets": {
                name: {
                    "n": result["n"],
                    "accuracy": result["accuracy"],
                    "macro_f1": result["macro_f1"],
                    "scoring": result["scoring"],
                }
                for name, result in entry["sets"].items()
            },
        }
    path.write_text(json.dumps(published, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--analyser",
        action="append",
        help='"module:Class" (repeatable); default: $SENTIMENT_ANALYSER, else the site default',
    )
    parser.add_argument(
        "--sets",
        default="vader,news",
        help="comma-separated: vader (needs pip and the network once), news",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report, not Markdown")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="where sentiment-latest.{md,json} go"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, write no files")
    parser.add_argument(
        "--publish",
        action="store_true",
        help=f"also record the figures the site shows editors ({PUBLISHED.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)

    specs = args.analyser or [configured_analyser()]
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(sets) - {"vader", "news"})
    if unknown or not sets:
        parser.error(f"--sets takes vader and/or news, not {', '.join(unknown) or 'nothing'}")
    progress = (lambda message: print(message, file=sys.stderr)) if args.json else print
    try:
        report = evaluate(specs, sets, progress)
    except DataUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = full_markdown(report)
    if not args.no_write:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "sentiment-latest.md").write_text(text, encoding="utf-8")
        (args.out / "sentiment-latest.json").write_text(
            json.dumps(report, indent=2) + "\n", encoding="utf-8"
        )
    if args.publish:
        publish(report)
    print(json.dumps(report, indent=2) if args.json else "\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
