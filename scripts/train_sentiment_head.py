"""Train the MiniLM analyser's 3-class head and write webapp/services/insights/sentiment_head.npz.

    .venv/bin/python scripts/train_sentiment_head.py            # choose by CV, fit, write
    .venv/bin/python scripts/train_sentiment_head.py --dry-run  # report only

Data: the TRAIN side of the human-rated sentences in the vaderSentiment sdist
(``bench.sentiment_data.vader_ground_truth("train")``: NYT editorial sentences, tweets,
movie and product review snippets, MIT licence, labelled by their crowd's mean rating),
and nothing else. The test side and the project's news comments are held out for
``bench/sentiment_eval.py``: this script never reads them.

Model: multinomial logistic regression on the unit-length all-MiniLM-L6-v2 embedding,
minimising the (optionally class-weighted) mean cross-entropy plus ``l2 / 2 * |W|^2``
(the bias is not penalised), fitted by Newton's method (1,155 parameters: the exact
Hessian is small, and a dozen steps reach the optimum whatever the penalty).

The penalty and the class weighting are chosen by 5-fold cross-validation on the train
side, folds drawn by the same groups as the train/test split (an editorial's sentences,
a review's, stay in one fold), on macro-F1 of the label the analyser stores (the most
likely class: ``score_from_probabilities`` makes ``label_for`` agree with it).

Embeddings of the train side are cached in bench/.cache (git-ignored), keyed by the
texts and the weights' hash, since they take minutes and do not change between fits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sentiment_data import Example, vader_ground_truth  # noqa: E402
from webapp.services.insights.minilm import (  # noqa: E402
    HEAD_PATH,
    MiniLMEncoder,
    SentimentHead,
    model_dir,
)
from webapp.services.insights.sentiment import (  # noqa: E402
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    text_for_analysis,
)

#: Column order of W's rows in the file (the loader reads the order from the file).
CLASSES = (NEGATIVE, NEUTRAL, POSITIVE)
PENALTIES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
WEIGHTINGS = ("none", "balanced")
FOLDS = 5
CACHE = ROOT / "bench" / ".cache"

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


# --- the fit ------------------------------------------------------------------------------


def _softmax(logits: Floats) -> Floats:
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    out: Floats = p / p.sum(axis=1, keepdims=True)
    return out


def class_weights(y: Ints, classes: int, weighting: str) -> Floats:
    """Per-example weights: 1, or "balanced" (each class weighs as much in total)."""
    if weighting == "none":
        return np.ones(len(y))
    if weighting != "balanced":
        raise ValueError(f"unknown weighting {weighting!r}")
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    per_class = len(y) / (classes * np.maximum(counts, 1.0))
    out: Floats = per_class[y]
    return out


def fit_softmax(
    x: Floats,
    y: Ints,
    classes: int,
    l2: float,
    weights: Floats | None = None,
    *,
    start: Floats | None = None,
    tolerance: float = 1e-8,
    max_steps: int = 50,
) -> tuple[Floats, Floats]:
    """W (classes, d) and b (classes,) minimising the weighted mean cross-entropy plus
    l2 / 2 * |W|^2, by Newton's method with a backtracking line search.

    The bias gets a token penalty (1e-8) only to make the Hessian invertible: softmax
    is unchanged when the same number is added to every class's bias. ``start`` (W and
    b side by side, as returned stacked by ``np.hstack([W, b[:, None]])``) warm-starts
    the fit: neighbouring penalties' optima are close, so a few steps suffice. The
    Hessian's blocks are summed in float32 (it only steers the step; the gradient and
    the loss, which decide convergence, are float64).
    """
    n, d = x.shape
    w = np.ones(n) if weights is None else weights
    w = w / w.sum()
    xb = np.hstack([x, np.ones((n, 1))])  # the bias as a last feature
    onehot = np.eye(classes)[y]
    penalty = np.full(d + 1, l2)
    penalty[-1] = 1e-8
    theta = np.zeros((classes, d + 1)) if start is None else start.copy()
    xb32 = xb.astype(np.float32)

    def loss(t: Floats) -> float:
        logits = xb @ t.T
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-(w * (onehot * log_p).sum(axis=1)).sum() + 0.5 * (penalty * t * t).sum())

    current = loss(theta)
    for _ in range(max_steps):
        p = _softmax(xb @ theta.T)
        gradient = ((p - onehot) * w[:, None]).T @ xb + penalty * theta  # (classes, d + 1)
        size = d + 1
        hessian = np.zeros((classes * size, classes * size))
        for i in range(classes):
            for j in range(i, classes):
                coefficient = (w * p[:, i] * ((i == j) - p[:, j])).astype(np.float32)
                block = (xb32 * coefficient[:, None]).T @ xb32
                hessian[i * size : (i + 1) * size, j * size : (j + 1) * size] = block
                hessian[j * size : (j + 1) * size, i * size : (i + 1) * size] = block.T
        hessian[np.diag_indices_from(hessian)] += np.tile(penalty, classes)
        step = np.linalg.solve(hessian, gradient.ravel()).reshape(classes, size)
        decrease = float((gradient * step).sum())
        if decrease / 2 < tolerance:
            break
        rate = 1.0
        while True:
            candidate = theta - rate * step
            value = loss(candidate)
            if value <= current - 0.25 * rate * decrease or rate < 1e-6:
                break
            rate /= 2
        theta, current = candidate, value
    return theta[:, :-1], theta[:, -1]


def predict(x: Floats, weights: Floats, bias: Floats) -> Ints:
    out: Ints = np.argmax(x @ weights.T + bias, axis=1)
    return out


def macro_f1(y: Ints, predicted: Ints, classes: int) -> float:
    scores = []
    for c in range(classes):
        tp = int(np.sum((y == c) & (predicted == c)))
        fp = int(np.sum((y != c) & (predicted == c)))
        fn = int(np.sum((y == c) & (predicted != c)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores))


def fold_of(groups: Sequence[str], folds: int) -> Ints:
    """A fold per group, from a stable hash: a group's sentences stay together."""
    return np.array(
        [
            int.from_bytes(hashlib.sha256(f"fold:{g}".encode()).digest()[:8], "big") % folds
            for g in groups
        ]
    )


def cross_validate(
    x: Floats, y: Ints, folds: Ints, weighting: str, classes: int
) -> dict[float, float]:
    """Mean macro-F1 over the folds for each penalty, each fold fitted on the others
    (penalties from strongest to weakest, each fit starting from the previous one)."""
    scores: dict[float, list[float]] = {l2: [] for l2 in PENALTIES}
    for fold in np.unique(folds):
        train, held = folds != fold, folds == fold
        sample_weights = class_weights(y[train], classes, weighting)
        start = None
        for l2 in sorted(PENALTIES, reverse=True):
            weights, bias = fit_softmax(
                x[train], y[train], classes, l2, sample_weights, start=start
            )
            start = np.hstack([weights, bias[:, None]])
            scores[l2].append(macro_f1(y[held], predict(x[held], weights, bias), classes))
    return {l2: float(np.mean(found)) for l2, found in scores.items()}


# --- data ---------------------------------------------------------------------------------


def embeddings(encoder: MiniLMEncoder, texts: list[str], weights_sha: str) -> Floats:
    key = hashlib.sha256(("\x00".join(texts) + weights_sha).encode()).hexdigest()[:16]
    path = CACHE / f"minilm-train-{key}.npy"
    if path.is_file():
        print(f"embeddings from {path.relative_to(ROOT)}")
        return np.load(path).astype(np.float64)
    began = time.perf_counter()
    found = encoder.encode_batched(texts)
    took = time.perf_counter() - began
    print(f"embedded {len(texts)} texts in {took:.0f} s ({1000 * took / len(texts):.1f} ms each)")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, found)
    return found.astype(np.float64)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=HEAD_PATH)
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    args = parser.parse_args(argv)

    examples: list[Example] = vader_ground_truth("train")
    texts = [text_for_analysis(e.text) for e in examples]
    y = np.array([CLASSES.index(e.label) for e in examples])
    groups = [e.group for e in examples]
    counts = {label: int(np.sum(y == i)) for i, label in enumerate(CLASSES)}
    print(f"{len(examples)} training sentences: {counts}")

    directory = model_dir()
    weights_sha = _sha256(directory / "model.safetensors")
    x = embeddings(MiniLMEncoder(directory), texts, weights_sha)

    folds = fold_of(groups, FOLDS)
    results = {}
    for weighting in WEIGHTINGS:
        began = time.perf_counter()
        found = cross_validate(x, y, folds, weighting, len(CLASSES))
        for l2, score in found.items():
            results[(weighting, l2)] = score
            print(f"  cv macro-F1 {score:.4f}  weighting={weighting} l2={l2:g}")
        print(f"  ({time.perf_counter() - began:.0f} s)")
    (weighting, l2), best = max(results.items(), key=lambda item: item[1])
    print(f"chosen: weighting={weighting} l2={l2:g} (cv macro-F1 {best:.4f})")

    weights, bias = fit_softmax(x, y, len(CLASSES), l2, class_weights(y, len(CLASSES), weighting))
    train_f1 = macro_f1(y, predict(x, weights, bias), len(CLASSES))
    print(f"train macro-F1 {train_f1:.4f}")

    head = SentimentHead(
        weights=weights.astype(np.float32),
        bias=bias.astype(np.float32),
        labels=CLASSES,
        trained_on=(
            f"vaderSentiment 3.3.2 ground truth (MIT), train side of bench/sentiment_data.py's "
            f"group split: {len(examples)} sentences {counts}; labels from mean rating "
            f"(|mean| > 0.5); all-MiniLM-L6-v2 weights sha256 {weights_sha}; "
            f"{FOLDS}-fold grouped CV chose weighting={weighting} l2={l2:g} "
            f"(cv macro-F1 {best:.4f}); by scripts/train_sentiment_head.py"
        ),
        trained_at=dt.date.today().isoformat(),
    )
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    head.save(args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
