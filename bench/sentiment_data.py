"""Labelled sentences for measuring (and training) sentiment analysers.

Two sources, both loaded as ``Example`` rows with a 3-class label:

- ``vader_ground_truth(split)``: the human-rated sentences that ship inside the
  ``vaderSentiment`` 3.3.2 source package (``additional_resources/hutto_ICWSM_2014.tar.gz``):
  5,190 New York Times opinion sentences from 500 editorials, 4,200 tweets, 10,605
  movie-review snippets and 3,708 product-review sentences from 309 Amazon reviews,
  each rated from -4 to +4 by at least 20 people (Hutto and Gilbert, ICWSM 2014).
  The package and its data are under the MIT licence (``LICENSE.txt`` in the sdist,
  "Copyright (c) 2016 C.J. Hutto"), so a model trained on them may ship with the
  project. Nothing of it is committed: the sdist is fetched at run time with pip
  (``pip download --no-deps --no-binary :all: vaderSentiment==3.3.2``), checked
  against its pinned SHA-256, and the four ``*_GroundTruth.txt`` files are extracted
  into a cache directory (``$PULSE_SENTIMENT_DATA_DIR``, else ``bench/.cache/vader``,
  git-ignored).
- ``news_comments()``: the project's own news-comment set
  (``bench/data/news_comments.csv``, labelled by ``bench/data/LABELLING.md`` before any
  analyser was run on it), each row with its article (``bench/data/news_topics.json``:
  title, poll question and options, labels: what a topic-neutral scorer gets).

**From mean rating to a label.** A mean above +0.5 is positive, below -0.5 negative,
anything between neutral. The raters' scale runs from -4 to +4 with 0 for "neutral"
and +-1 for "slightly" positive or negative; a plainly factual sentence still collects
a few +-1 votes, so its mean wanders a few tenths from 0. Half of the smallest step of
the scale is the point where the crowd, on average, leans at least halfway to
"slightly" one way: below it the sentence reads as neutral to most raters. (VADER's
own +-0.05 cut-off is for its compound score, a different scale.)

**Train/test split by source.** Sentences from one editorial or one review share a
writer, a subject and a vocabulary; with some of them in training and the others in
test, a model would be scored partly on what it memorised. So the split is by group:
the part of the id before ``_`` names the NYT editorial (``"12_3"`` = editorial 12,
sentence 3) and the Amazon review; tweet and movie-snippet ids are plain numbers (each
tweet or snippet is its own source, the files keep no review id for the snippets), so
each is its own group. A group goes to test when a hash of ``corpus:group`` falls in
the lowest 30 %: deterministic, the same on every machine and run, independent of row
order, and each corpus has hundreds of groups, so every corpus is on both sides
(``split_examples`` checks it).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import subprocess  # nosec B404 - runs pip with fixed arguments
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"
LABELS = (POSITIVE, NEUTRAL, NEGATIVE)

DATA_DIR = Path(__file__).resolve().parent / "data"
NEWS_COMMENTS = DATA_DIR / "news_comments.csv"
NEWS_TOPICS = DATA_DIR / "news_topics.json"
DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache" / "vader"
CACHE_ENV = "PULSE_SENTIMENT_DATA_DIR"

VADER_SDIST = "vaderSentiment==3.3.2"
VADER_SDIST_FILE = "vaderSentiment-3.3.2.tar.gz"
#: PyPI's vaderSentiment-3.3.2.tar.gz: a different file is refused, not read.
VADER_SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
_INNER_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"

#: corpus name -> its file in the inner archive, and whether its ids carry a group prefix.
CORPORA: dict[str, tuple[str, bool]] = {
    "nyt": ("nytEditorialSnippets_GroundTruth.txt", True),
    "tweets": ("tweets_GroundTruth.txt", False),
    "movies": ("movieReviewSnippets_GroundTruth.txt", False),
    "amazon": ("amazonReviewSnippets_GroundTruth.txt", True),
}

#: |mean rating| above this is positive or negative; see the module docstring.
RATING_BAND = 0.5
TEST_SHARE = 0.3
#: Part of every split hash: changing it would reshuffle the split, so it stays.
SPLIT_SALT = "pulse-sentiment-split-v1"

Split = Literal["train", "test", "all"]


@dataclass(frozen=True)
class NewsTopic:
    """An article of the news set, as its page would describe it."""

    id: str
    title: str
    question: str
    options: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    """A labelled sentence. ``group`` is what must not straddle train and test;
    ``rating`` is the crowd's mean (-4 to 4) for the VADER ground truth, None for the
    news set; ``topic`` is the article of a news comment."""

    id: str
    text: str
    label: str
    source: str
    group: str
    rating: float | None = None
    topic: NewsTopic | None = None


class DataUnavailable(RuntimeError):
    """The VADER ground truth could not be fetched or read."""


def label_for_rating(rating: float) -> str:
    """The 3-class label of a mean rating on the raters' -4..+4 scale."""
    if rating > RATING_BAND:
        return POSITIVE
    if rating < -RATING_BAND:
        return NEGATIVE
    return NEUTRAL


def split_of(group: str, test_share: float = TEST_SHARE) -> Literal["train", "test"]:
    """Which side a group is on: a stable hash, so the same on every run and machine."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{group}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if position < test_share else "train"


def split_examples(
    examples: Iterable[Example], split: Split, test_share: float = TEST_SHARE
) -> list[Example]:
    """The examples on one side of the split (``"all"``: every one), in their order.

    Refuses a split that leaves a source with no example on one side: a corpus missing
    from test would go unmeasured without anyone noticing.
    """
    rows = list(examples)
    if split == "all":
        return rows
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}")
    sides: dict[str, set[str]] = {}
    chosen = []
    for row in rows:
        side = split_of(row.group, test_share)
        sides.setdefault(row.source, set()).add(side)
        if side == split:
            chosen.append(row)
    lopsided = sorted(source for source, seen in sides.items() if len(seen) < 2)
    if lopsided:
        raise ValueError(f"sources on one side of the split only: {', '.join(lopsided)}")
    return chosen


# --- the VADER ground truth ---------------------------------------------------------------


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def vader_ground_truth(
    split: Split = "test", *, corpora: Sequence[str] | None = None
) -> list[Example]:
    """The human-rated sentences of the vaderSentiment sdist, labelled by
    ``label_for_rating``, on one side of the group split. Fetches the sdist on first
    use (network); later calls read the cache."""
    names = list(CORPORA) if corpora is None else list(corpora)
    unknown = sorted(set(names) - set(CORPORA))
    if unknown:
        raise ValueError(f"unknown corpora: {', '.join(unknown)} (known: {', '.join(CORPORA)})")
    directory = ensure_ground_truth()
    examples: list[Example] = []
    for name in names:
        filename, grouped = CORPORA[name]
        examples.extend(parse_ground_truth((directory / filename).read_bytes(), name, grouped))
    return split_examples(examples, split)


def parse_ground_truth(raw: bytes, source: str, grouped: bool) -> list[Example]:
    """Rows of a ``*_GroundTruth.txt`` file: id, mean rating, text, tab-separated."""
    examples = []
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3:
            raise DataUnavailable(f"{source} line {number}: expected id, rating and text")
        row_id, rating_text, text = (part.strip() for part in parts)
        rating = float(rating_text)
        key = row_id.split("_", 1)[0] if grouped else row_id
        examples.append(
            Example(
                id=f"{source}:{row_id}",
                # Tweets were stored HTML-escaped ("&amp;"); raters read the characters.
                text=html.unescape(text),
                label=label_for_rating(rating),
                source=source,
                group=f"{source}:{key}",
                rating=rating,
            )
        )
    return examples


def ensure_ground_truth(directory: Path | None = None) -> Path:
    """The directory holding the four ground-truth files, fetching the sdist if needed."""
    target = directory or cache_dir()
    files = [target / filename for filename, _ in CORPORA.values()]
    if all(path.is_file() for path in files):
        return target
    target.mkdir(parents=True, exist_ok=True)
    sdist = target / VADER_SDIST_FILE
    if not sdist.is_file():
        _download_sdist(target)
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != VADER_SDIST_SHA256:
        raise DataUnavailable(f"{sdist} has SHA-256 {digest}, expected {VADER_SDIST_SHA256}")
    extract_ground_truth(sdist, target)
    return target


def _download_sdist(target: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        VADER_SDIST,
        "--dest",
        str(target),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0 or not (target / VADER_SDIST_FILE).is_file():
        raise DataUnavailable(
            f"could not fetch the {VADER_SDIST} sdist with pip "
            f"(exit {result.returncode}): {result.stderr.strip()[-500:]}"
        )


def extract_ground_truth(sdist: Path, target: Path) -> None:
    """Copy the four ground-truth files out of the sdist's inner archive, by name only
    (no member path is ever used as a destination)."""
    wanted = {filename for filename, _ in CORPORA.values()}
    with tarfile.open(sdist, "r:gz") as outer:
        inner_file = outer.extractfile(_INNER_ARCHIVE)
        if inner_file is None:
            raise DataUnavailable(f"{_INNER_ARCHIVE} is missing from {sdist.name}")
        with tarfile.open(fileobj=io.BytesIO(inner_file.read()), mode="r:gz") as inner:
            for member in inner.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in wanted:
                    data = inner.extractfile(member)
                    assert data is not None  # a regular file always has contents
                    (target / name).write_bytes(data.read())
                    wanted.discard(name)
    if wanted:
        raise DataUnavailable(f"missing from the sdist: {', '.join(sorted(wanted))}")


# --- the news-comment set -----------------------------------------------------------------


def news_topics(path: Path = NEWS_TOPICS) -> dict[str, NewsTopic]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: NewsTopic(
            id=key,
            title=value["title"],
            question=value["question"],
            options=tuple(value["options"]),
            labels=tuple(value["labels"]),
        )
        for key, value in raw.items()
    }


def news_comments(path: Path = NEWS_COMMENTS, topics_path: Path = NEWS_TOPICS) -> list[Example]:
    """The labelled news comments, each with its article. All of it is held out: it
    measures analysers and is never trained on. A row naming an unknown topic or label
    is an error, not a skipped row."""
    topics = news_topics(topics_path)
    examples = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), 2):
            topic = topics.get(row["topic"])
            if topic is None:
                raise ValueError(f"{path.name} line {number}: unknown topic {row['topic']!r}")
            if row["label"] not in LABELS:
                raise ValueError(f"{path.name} line {number}: unknown label {row['label']!r}")
            examples.append(
                Example(
                    id=row["id"],
                    text=row["text"],
                    label=row["label"],
                    source="news",
                    group=f"news:{topic.id}",
                    topic=topic,
                )
            )
    return examples


if __name__ == "__main__":
    # A quick look: how many sentences each source gives each side, by label.
    from collections import Counter

    for side in ("train", "test"):
        counts = Counter((e.source, e.label) for e in vader_ground_truth(side))
        for corpus in CORPORA:
            print(side, corpus, {label: counts[(corpus, label)] for label in LABELS})
    print("news", dict(Counter(e.label for e in news_comments())))
