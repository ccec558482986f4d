"""The sentiment evaluation's own parts: its metrics, the train/test split, the data
loaders and the news set (no network: the VADER sdist is faked where it is needed)."""

from __future__ import annotations

import importlib.util
import io
import json
import random
import tarfile
from pathlib import Path

import pytest

from bench import sentiment_eval
from bench.sentiment_data import (
    CORPORA,
    LABELS,
    NEWS_TOPICS,
    VADER_SDIST_FILE,
    DataUnavailable,
    Example,
    extract_ground_truth,
    label_for_rating,
    news_comments,
    news_topics,
    parse_ground_truth,
    split_examples,
    split_of,
)
from bench.sentiment_eval import accuracy, confusion_matrix, f1_scores, macro_f1, share

# --- metrics -------------------------------------------------------------------------------


def test_confusion_counts_true_labels_by_row_and_predictions_by_column() -> None:
    truth = ["positive", "positive", "neutral", "negative", "negative", "negative"]
    guess = ["positive", "negative", "neutral", "negative", "positive", "negative"]

    assert confusion_matrix(truth, guess) == [[1, 0, 1], [0, 1, 0], [1, 0, 2]]


def test_metrics_of_a_hand_made_confusion() -> None:
    # positive: 8 right, 2 called neutral; neutral: 3 right, 1 positive, 1 negative;
    # negative: 5 right, 4 positive, 1 neutral.
    matrix = [[8, 2, 0], [1, 3, 1], [4, 1, 5]]

    assert accuracy(matrix) == pytest.approx(16 / 25)
    # F1 = 2TP / (2TP + FP + FN): positive 16/(16+5+2), neutral 6/(6+3+2), negative 10/(10+1+5)
    expected = [16 / 23, 6 / 11, 10 / 16]
    assert f1_scores(matrix) == pytest.approx(expected)
    assert macro_f1(matrix) == pytest.approx(sum(expected) / 3)
    assert share(matrix, 0, predicted=True) == pytest.approx(13 / 25)
    assert share(matrix, 0, predicted=False) == pytest.approx(10 / 25)


def test_a_class_never_seen_nor_predicted_scores_zero_and_pulls_macro_f1_down() -> None:
    matrix = [[5, 0, 0], [0, 0, 0], [0, 0, 5]]

    assert accuracy(matrix) == 1.0
    assert f1_scores(matrix) == [1.0, 0.0, 1.0]
    assert macro_f1(matrix) == pytest.approx(2 / 3)


def test_calling_everything_neutral_scores_the_neutral_share() -> None:
    truth = ["positive"] * 3 + ["neutral"] * 5 + ["negative"] * 2
    matrix = confusion_matrix(truth, ["neutral"] * len(truth))

    assert accuracy(matrix) == pytest.approx(0.5)
    assert macro_f1(matrix) == pytest.approx((2 * 5 / (2 * 5 + 5)) / 3)


# --- ratings and the split -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "label"),
    [(3.1, "positive"), (0.51, "positive"), (0.5, "neutral"), (0.0, "neutral"),
     (-0.5, "neutral"), (-0.51, "negative"), (-4.0, "negative")],
)  # fmt: skip
def test_mean_rating_to_label(rating: float, label: str) -> None:
    assert label_for_rating(rating) == label


def _synthetic_rows() -> list[Example]:
    rows = []
    for source in ("nyt", "amazon"):
        for group in range(300):
            for sentence in range(1 + group % 7):
                rows.append(
                    Example(
                        id=f"{source}:{group}_{sentence}",
                        text=f"sentence {sentence} of {group}",
                        label=LABELS[sentence % 3],
                        source=source,
                        group=f"{source}:{group}",
                    )
                )
    return rows


def test_no_group_is_on_both_sides_of_the_split() -> None:
    rows = _synthetic_rows()
    train = split_examples(rows, "train")
    test = split_examples(rows, "test")

    assert {row.group for row in train}.isdisjoint({row.group for row in test})
    assert sorted(r.id for r in train + test) == sorted(r.id for r in rows)
    for source in ("nyt", "amazon"):
        groups = {row.group for row in test if row.source == source}
        assert 0.2 < len(groups) / 300 < 0.4, "about 30 % of each corpus's groups in test"


def test_the_split_does_not_depend_on_row_order() -> None:
    rows = _synthetic_rows()
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)

    assert {r.id for r in split_examples(shuffled, "test")} == {
        r.id for r in split_examples(rows, "test")
    }


def test_a_source_left_on_one_side_is_refused() -> None:
    # One group only: whichever side it hashes to, the other side has none of it.
    lonely = Example(id="x:1", text="t", label="neutral", source="tiny", group="tiny:1")

    with pytest.raises(ValueError, match="tiny"):
        split_examples([*_synthetic_rows(), lonely], split_of("tiny:1"))


def test_ground_truth_rows_are_grouped_by_editorial_and_labelled_by_rating() -> None:
    raw = b"12_1\t1.2\tA fine plan.\r\n12_2\t-0.3\tThe vote is on Monday.\r\n40_1\t-2.5\tAwful.\r\n"

    rows = parse_ground_truth(raw, "nyt", grouped=True)

    assert [(r.group, r.label) for r in rows] == [
        ("nyt:12", "positive"),
        ("nyt:12", "neutral"),
        ("nyt:40", "negative"),
    ]


def test_tweets_are_their_own_groups_and_read_unescaped() -> None:
    rows = parse_ground_truth(b"7\t2.0\tcake &amp; tea\n8\t0.1\tok\n", "tweets", grouped=False)

    assert [r.group for r in rows] == ["tweets:7", "tweets:8"]
    assert rows[0].text == "cake & tea"


def _fake_sdist(path: Path, files: dict[str, bytes]) -> None:
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"hutto_ICWSM_2014/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with tarfile.open(path, "w:gz") as outer:
        info = tarfile.TarInfo("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz")
        info.size = len(inner.getvalue())
        outer.addfile(info, io.BytesIO(inner.getvalue()))


def test_the_ground_truth_files_are_extracted_from_the_sdists_inner_archive(
    tmp_path: Path,
) -> None:
    files = {filename: f"1_1\t0.0\t{name}\n".encode() for name, (filename, _) in CORPORA.items()}
    _fake_sdist(tmp_path / VADER_SDIST_FILE, {**files, "vaderSentiment.py": b"x"})

    extract_ground_truth(tmp_path / VADER_SDIST_FILE, tmp_path)

    for filename, data in files.items():
        assert (tmp_path / filename).read_bytes() == data
    assert not (tmp_path / "vaderSentiment.py").exists()


def test_an_sdist_missing_a_ground_truth_file_is_an_error(tmp_path: Path) -> None:
    _fake_sdist(tmp_path / VADER_SDIST_FILE, {"tweets_GroundTruth.txt": b"1\t0\tx\n"})

    with pytest.raises(DataUnavailable, match="nytEditorialSnippets"):
        extract_ground_truth(tmp_path / VADER_SDIST_FILE, tmp_path)


# --- the news set --------------------------------------------------------------------------


def test_the_news_set_is_complete_and_consistent() -> None:
    rows = news_comments()
    topics = news_topics()

    assert len(rows) >= 300
    assert {row.label for row in rows} == set(LABELS)
    assert all(row.topic is not None and row.topic.id in topics for row in rows)
    assert len({row.topic.id for row in rows if row.topic}) >= 4
    assert len({row.id for row in rows}) == len(rows)
    normalised = [" ".join(row.text.lower().split()) for row in rows]
    assert len(set(normalised)) == len(normalised), "no duplicate texts"
    assert all(row.text.strip() for row in rows)


def test_every_news_topic_describes_its_article() -> None:
    raw = json.loads(NEWS_TOPICS.read_text(encoding="utf-8"))

    for topic in news_topics().values():
        assert topic.title and topic.question and len(topic.options) >= 2 and topic.labels
        assert set(raw[topic.id]) == {"title", "question", "options", "labels"}


def test_an_unknown_label_in_the_news_set_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "comments.csv"
    bad.write_text("id,topic,text,label\nx-1,sport,Great game,happy\n", encoding="utf-8")

    with pytest.raises(ValueError, match="happy"):
        news_comments(bad)


# --- the evaluation end to end, on the news set ----------------------------------------------


class AlwaysNeutral:
    def score(self, text: str) -> float:
        return 0.0


class LikesTopicWords:
    """Positive when a comment names any of its article's topic words, else negative."""

    def score(self, text: str) -> float:
        return -1.0

    def score_in_topic(self, text: str, topic_words: frozenset[str]) -> float:
        return 1.0 if set(text.lower().replace("?", " ").split()) & topic_words else -1.0


def test_the_report_measures_each_analyser_on_the_news_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sentiment_eval,
        "find_topic_words_from",
        lambda: (
            lambda title, question, options, labels, extra: frozenset(
                (question or "").lower().replace("?", " ").split()
            )
        ),
    )
    rows = news_comments()
    neutral_share = sum(row.label == "neutral" for row in rows) / len(rows)

    code = sentiment_eval.main(
        [
            "--sets=news",
            f"--out={tmp_path}",
            "--analyser=tests.test_sentiment_eval:AlwaysNeutral",
            "--analyser=tests.test_sentiment_eval:LikesTopicWords",
        ]
    )

    assert code == 0
    report = json.loads((tmp_path / "sentiment-latest.json").read_text())
    neutral = report["analysers"]["tests.test_sentiment_eval:AlwaysNeutral"]["sets"]
    assert set(neutral) == {"news"}, "no topic-aware run for an analyser without one"
    assert neutral["news"]["n"] == len(rows)
    assert neutral["news"]["accuracy"] == pytest.approx(neutral_share, abs=1e-4)
    assert neutral["news"]["predicted_positive_share"] == 0
    topical = report["analysers"]["tests.test_sentiment_eval:LikesTopicWords"]["sets"]
    assert topical["news"]["scoring"] == "score_in_topic"
    assert topical["news_plain"]["scoring"] == "score"
    # The seed's own question, asked back, is neutral and contains its topic words.
    assert topical["news"]["predicted_positive_share"] > 0
    assert topical["news_plain"]["predicted_positive_share"] == 0
    table = (tmp_path / "sentiment-latest.md").read_text()
    assert f"| AlwaysNeutral | news | {len(rows)} |" in table
    assert "LikesTopicWords | news (topic words)" in capsys.readouterr().out


def test_publishing_replaces_the_measured_analysers_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "accuracy.json"
    old = {"sets": {"news": {"n": 10, "accuracy": 0.5, "macro_f1": 0.4}}}
    path.write_text(json.dumps({"analysers": {"a:Old": old, "a:Measured": old}}))
    result = {"n": 364, "accuracy": 0.61, "macro_f1": 0.6, "scoring": "score", "f1": {}}
    report = {
        "generated_at": "2026-12-03T23:00:00+00:00",
        "commit": "abc1234",
        "analysers": {"a:Measured": {"name": "Measured", "sets": {"news": result}}},
    }

    sentiment_eval.publish(report, path)

    published = json.loads(path.read_text())["analysers"]
    assert published["a:Old"] == old
    assert published["a:Measured"]["sets"] == {
        "news": {"n": 364, "accuracy": 0.61, "macro_f1": 0.6, "scoring": "score"}
    }
    assert published["a:Measured"]["commit"] == "abc1234"


def test_the_news_set_is_scored_with_the_site_wide_words_a_new_site_starts_with() -> None:
    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    path = next(versions.glob("*_sentiment_topic_words.py"))
    spec = importlib.util.spec_from_file_location("topic_words_revision", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)

    assert set(sentiment_eval.SITE_TOPIC_WORDS) == set(revision.STARTING_WORDS)


def test_without_a_choice_the_configured_analyser_is_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from webapp.services.insights.sentiment import DEFAULT_ANALYSER

    monkeypatch.delenv("SENTIMENT_ANALYSER", raising=False)
    assert sentiment_eval.configured_analyser() == DEFAULT_ANALYSER
    monkeypatch.setenv("SENTIMENT_ANALYSER", " tests.test_sentiment_eval:AlwaysNeutral ")
    assert sentiment_eval.configured_analyser() == "tests.test_sentiment_eval:AlwaysNeutral"


def test_an_analyser_that_cannot_be_built_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match="cannot build tests.test_sentiment_eval:Missing"):
        sentiment_eval.build_analyser("tests.test_sentiment_eval:Missing")
