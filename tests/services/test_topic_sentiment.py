"""Topic words are not opinion (issue 17): a comment is scored with the words naming its
article's subject carrying no valence, while negations and boosters keep their role."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from webapp import caching
from webapp.demo.loader import DEMO_OPTIONS, DEMO_QUESTION
from webapp.errors import InvalidInput
from webapp.models import Comment, ModerationAction
from webapp.services import comments
from webapp.services.insights import sentiment, topics
from webapp.services.insights.sentiment import (
    PlainVaderAnalyser,
    VaderAnalyser,
    analyse,
    rescore_comments,
)
from webapp.services.insights.topics import topic_words_for, topic_words_from

LIBRARY = SentimentIntensityAnalyzer()

#: The seed's article, as webapp/demo/loader.py writes it.
CEASEFIRE = {
    "title": "How quiet U.S. diplomacy pulled India and Pakistan back from the brink",
    "poll": {"question": DEMO_QUESTION, "options": list(DEMO_OPTIONS)},
    "labels": ["South Asia", "Diplomacy", "India", "Pakistan"],
}
ELECTION = {
    "title": "Who will win the run-off? The election in five charts",
    "poll": {"question": "Who should win?", "options": ["The incumbent", "The challenger"]},
    "labels": ["Elections"],
}
SPORT = {"title": "City 2 Rovers 1: a derby settled in stoppage time", "labels": ["Sport"]}
ECONOMY = {
    "title": "Growth stalls as prices climb",
    "poll": {"question": "Will growth return this year?", "options": ["Yes", "No"]},
    "labels": ["Economy"],
}


@pytest.fixture(autouse=True)
def fresh_analysers(monkeypatch):
    # Outside an app these tests read VADER (inside one, tests/conftest.py names it):
    # the site's default is the MiniLM model, whose topic words tests/services/test_minilm.py
    # covers.
    monkeypatch.setattr(sentiment._analysers, "default", sentiment.FAST_ANALYSER)
    sentiment.clear_cache()
    yield
    sentiment.clear_cache()


def plain(text: str) -> float:
    """VADER as shipped."""
    return float(LIBRARY.polarity_scores(text)["compound"])


def posted(make_article, make_user, db, spec, text):  # type: ignore[no-untyped-def]
    article = make_article(**spec)
    comment = comments.submit(article, make_user(), text)
    db.session.commit()
    return article, comment


# --- the pinned sentences ------------------------------------------------------------


@pytest.mark.parametrize("text", [DEMO_QUESTION, "This peace won't last a week"])
def test_the_seeds_sentences_are_no_longer_positive_under_the_ceasefire_article(
    db, make_article, make_user, text
):
    assert plain(text) > 0.5  # what VADER as shipped says: "peace" is +2.5
    _, comment = posted(make_article, make_user, db, CEASEFIRE, text)
    assert comment.sentiment is not None and comment.sentiment <= 0.0
    assert comment.sentiment_label != "positive"


def test_an_opinion_about_the_topic_keeps_its_opinion(db, make_article, make_user):
    text = "The ceasefire is a disgrace"
    _, comment = posted(make_article, make_user, db, CEASEFIRE, text)
    assert comment.sentiment_label == "negative"
    assert comment.sentiment == pytest.approx(plain(text))  # "disgrace" counts in full


def test_a_topic_word_beside_an_opinion_leaves_only_the_opinion(db, make_article, make_user):
    text = "Peace at last, what a relief"
    _, comment = posted(make_article, make_user, db, CEASEFIRE, text)
    assert comment.sentiment_label == "positive"
    assert 0.05 < comment.sentiment < plain(text)  # "relief", without "peace"'s +2.5
    assert comment.sentiment == pytest.approx(plain("At last, what a relief"), abs=0.02)


def test_on_an_election_article_win_is_the_topic_and_liars_the_opinion(db, make_article, make_user):
    text = "Another win for the liars"
    assert plain(text) > 0.05
    _, comment = posted(make_article, make_user, db, ELECTION, text)
    assert comment.sentiment_label == "negative"


def test_on_a_sport_article_without_win_in_its_words_a_win_is_still_praise(
    db, make_article, make_user
):
    text = "What a win!"
    article, comment = posted(make_article, make_user, db, SPORT, text)
    assert "win" not in topic_words_for(article)
    assert comment.sentiment_label == "positive"
    assert comment.sentiment == pytest.approx(plain(text))


def test_on_an_economy_article_growth_is_neutralised(db, make_article, make_user):
    text = "Growth figures out today"
    assert plain(text) > 0.05
    _, comment = posted(make_article, make_user, db, ECONOMY, text)
    assert comment.sentiment_label == "neutral"
    great = comments.submit(comment.article, comment.author, "Growth is great news")
    assert great.sentiment_label == "positive"  # "great" is the writer's


# --- negations and boosters keep their role -------------------------------------------


def test_a_negation_still_negates_the_words_that_are_not_topic():
    words = topic_words_from("Will the ceasefire fail?", None, [], [])
    assert "fail" in words  # a word of the title ...
    analyser = VaderAnalyser()
    # ... so "won't" has nothing to negate here: neutral, not negative ...
    assert analyser.score_in_topic("The ceasefire won't fail", words) == 0.0
    # ... while with other words it negates as VADER does.
    text = "This peace won't be good"
    assert analyser.score_in_topic(text, frozenset({"peace"})) == pytest.approx(
        plain("This truce won't be good")
    )
    assert analyser.score_in_topic(text, frozenset({"peace"})) < 0


def test_negations_boosters_and_function_words_are_never_topic_words():
    words = topic_words_from(
        "Not very likely: why the peace won't hold", "Yes or no?", ["Like it"], ["Barely"]
    )
    assert {"likely", "peace", "hold"} <= words
    assert words.isdisjoint({"not", "very", "won't", "yes", "no", "like", "barely", "why"})


def test_an_intensifier_in_the_title_still_intensifies_in_comments():
    words = topic_words_from("A very fragile truce", None, [], [])
    text = "The talks were very good"
    assert VaderAnalyser().score_in_topic(text, words) == pytest.approx(plain(text))
    assert plain(text) > plain("The talks were good")


def test_topic_words_are_read_as_vader_reads_words():
    words = topic_words_from(
        "“Peace” talks: India-Pakistan SUMMIT ends", "Trust them?", ["Growth/jobs"], ["U.S."]
    )
    assert {"peace", "talks", "india-pakistan", "india", "pakistan", "summit", "ends"} <= words
    assert {"trust", "growth", "jobs", "u.s"} <= words
    assert all(word == word.lower() for word in words)
    # Capitals and punctuation in the comment do not hide a topic word.
    assert VaderAnalyser().score_in_topic("PEACE!!!", words) == 0.0


def test_a_topic_word_in_an_emoji_description_is_hidden_too():
    # VADER reads an emoji as its description's words ("smiling face with smiling eyes").
    text = "\N{SMILING FACE WITH SMILING EYES}"
    assert plain(text) > 0
    assert VaderAnalyser().score_in_topic(text, frozenset({"smiling"})) == 0.0


def test_without_topic_words_vader_scores_as_shipped():
    for text in ("VADER is smart, handsome, and funny.", "This peace won't last a week", ""):
        assert analyse(text).score == plain(text)
        assert VaderAnalyser().score_in_topic(text, frozenset({"unrelated"})) == plain(text)


def test_scoring_in_topic_leaves_the_shared_analyser_as_it_was_across_threads():
    analyser = VaderAnalyser()
    cases = [
        ("This peace won't last a week", frozenset({"peace"})),
        ("This peace won't last a week", frozenset()),
        ("Another win for the liars", frozenset({"win"})),
        ("What a win!", frozenset({"peace"})),
    ] * 50
    expected = [analyser.score_in_topic(text, words) for text, words in cases]
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda case: analyser.score_in_topic(*case), cases))
    assert found == expected
    assert analyser.score("This peace won't last a week") == plain("This peace won't last a week")


# --- which analyser -------------------------------------------------------------------


class TopicBlindAnalyser:
    """An analyser without ``score_in_topic``: scores as it always did."""

    def score(self, text: str) -> float:
        return 0.5 if "peace" in text else -0.5


def test_plain_vader_stays_selectable_and_scores_as_shipped(make_app, make_article, make_user):
    app = make_app(SENTIMENT_ANALYSER="webapp.services.insights.sentiment:PlainVaderAnalyser")
    with app.app_context():
        article = make_article(**CEASEFIRE)
        comment = comments.submit(article, make_user(), "This peace won't last a week")
        assert isinstance(sentiment.get_analyser(), PlainVaderAnalyser)
        assert not hasattr(sentiment.get_analyser(), "score_in_topic")
        assert comment.sentiment == plain("This peace won't last a week")
        assert comment.sentiment_label == "positive"


def test_an_analyser_without_score_in_topic_scores_the_text_as_it_is(make_app):
    with make_app(SENTIMENT_ANALYSER=TopicBlindAnalyser).app_context():
        assert analyse("peace", frozenset({"peace"})).score == 0.5


# --- where the words come from --------------------------------------------------------


def test_an_articles_words_come_from_its_title_poll_labels_and_the_site_list(
    db, make_article, make_user
):
    editor = make_user("editor")
    topics.add_site_topic_word(editor, "United")
    db.session.commit()
    article = make_article(**CEASEFIRE)
    words = topic_words_for(article)
    assert {"diplomacy", "brink", "peace", "fragile", "ceasefire", "conflict", "asia"} <= words
    assert "united" in words
    assert "yes" not in words  # an option's "Yes" answers, it names no subject
    bare = make_article(title="Markets")
    assert topic_words_for(bare) == frozenset({"markets", "united"})


def test_words_for_a_batch_are_read_in_one_query(db, make_article, count_queries):
    first, second = make_article(**ECONOMY).id, make_article(**SPORT).id
    with count_queries() as queries:
        found = topics.topic_words_by_article([first, second, first])
    assert len([sql for sql in queries if sql.startswith("SELECT")]) == 1
    assert "growth" in found[first] and "derby" in found[second]
    assert "derby" not in found[first]


def test_posting_reads_an_articles_words_once_while_cached(
    app, db, make_article, make_user, count_queries
):
    app.config["TOPIC_WORDS_CACHE_SECONDS"] = 60
    caching.TOPIC_WORDS.clear()
    article = make_article(**CEASEFIRE)
    author = make_user()
    comments.submit(article, author, "First thoughts on this peace")
    db.session.commit()
    with count_queries() as queries:
        later = comments.submit(article, author, "This peace won't last a week")
    assert later.sentiment_label == "neutral"
    assert not [sql for sql in queries if "site_topic_words" in sql]
    caching.TOPIC_WORDS.clear()


def test_a_site_word_applies_at_once_in_the_worker_that_added_it(app, db, make_article, make_user):
    app.config["TOPIC_WORDS_CACHE_SECONDS"] = 60
    caching.TOPIC_WORDS.clear()
    article = make_article(title="The final: a report")
    author = make_user()
    text = "United are through to the final"
    assert comments.submit(article, author, text).sentiment_label == "positive"
    topics.add_site_topic_word(make_user("editor"), "united")
    db.session.commit()
    assert comments.submit(article, author, text).sentiment_label == "neutral"
    caching.TOPIC_WORDS.clear()


def test_an_edited_comment_is_scored_with_its_articles_words(db, make_article, make_user):
    article, comment = posted(make_article, make_user, db, CEASEFIRE, "Too early to say.")
    comments.edit(comment, comment.author, "Do you believe this fragile peace will hold?")
    db.session.commit()
    assert comment.sentiment == 0.0
    assert comment.sentiment_label == "neutral"


def test_rescoring_uses_each_comments_own_articles_words(db, make_article, make_user):
    text = "This peace won't last a week"
    ceasefire, on_ceasefire = posted(make_article, make_user, db, CEASEFIRE, text)
    _, on_sport = posted(make_article, make_user, db, SPORT, text)
    for comment in (on_ceasefire, on_sport):
        comment.sentiment, comment.sentiment_label = 0.99, "positive"  # as scored before
    db.session.commit()
    assert rescore_comments(batch_size=1) == 2
    db.session.expire_all()
    assert db.session.get(Comment, on_ceasefire.id).sentiment_label == "neutral"
    assert db.session.get(Comment, on_sport.id).sentiment == plain(text)  # "peace" is opinion there


def test_rescoring_reads_the_topic_words_once_per_batch_and_alike_in_a_pool(
    db, make_article, make_user, count_queries
):
    reader = make_user()
    texts = ["This peace won't last a week", "What a win!", "Growth figures out today"]
    for spec in (CEASEFIRE, ELECTION, ECONOMY):
        article = make_article(**spec)
        for text in texts:
            comment = comments.submit(article, reader, text)
            comment.sentiment, comment.sentiment_label = 0.99, "positive"
    db.session.commit()
    with count_queries() as queries:
        assert rescore_comments(batch_size=5) == 9
    assert len([sql for sql in queries if "site_topic_words" in sql]) == 2  # 2 batches
    one_process = db.session.execute(sa.select(Comment.id, Comment.sentiment)).all()
    labels = db.session.scalars(sa.select(Comment.sentiment_label)).all()
    assert sorted(labels) == ["neutral"] * 3 + ["positive"] * 6  # each article's own word
    db.session.execute(sa.update(Comment).values(sentiment=0.99, sentiment_label="positive"))
    db.session.commit()
    assert rescore_comments(batch_size=2, workers=2) == 9
    db.session.expire_all()
    assert db.session.execute(sa.select(Comment.id, Comment.sentiment)).all() == one_process


# --- the site-wide list ---------------------------------------------------------------


def test_a_site_word_is_kept_lower_case_and_logged(db, make_user):
    editor = make_user("editor")
    entry = topics.add_site_topic_word(editor, "  “Security”  ")
    db.session.commit()
    assert entry.word == "security"
    assert [w.word for w in topics.site_topic_words()] == ["security"]
    logged = db.session.scalars(sa.select(ModerationAction)).all()
    assert [(e.actor_id, e.action, e.details) for e in logged] == [
        (editor.id, "settings", {"term": "security", "kind": "topic word"})
    ]
    assert topics.remove_site_topic_word(editor, "Security") == "security"
    db.session.commit()
    assert topics.site_topic_words() == []
    assert topics.remove_site_topic_word(editor, "security") is None  # already gone
    logged = db.session.scalars(sa.select(ModerationAction).order_by(ModerationAction.id)).all()
    assert [e.details for e in logged][1:] == [{"term": "security", "kind": "topic word removed"}]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "Please enter a word"),
        ("   ", "Please enter a word"),
        ("peace talks", "One word at a time"),
        ("!!!", "at least one letter"),
        ("not", "keeps that role"),
        ("won't", "keeps that role"),
        ("very", "keeps that role"),
        ("the", "names no subject"),
        ("x" * 51, "At most 50"),
        ("pea\x00ce\x07", None),  # control characters go, as everywhere (webapp/text.py)
    ],
)
def test_odd_site_words_are_refused_with_a_reason(db, make_user, typed, reason):
    editor = make_user("editor")
    if reason is None:
        assert topics.add_site_topic_word(editor, typed).word == "peace"
        return
    with pytest.raises(InvalidInput) as refused:
        topics.add_site_topic_word(editor, typed)
    assert reason in refused.value.fields["word"]


def test_a_word_already_listed_is_refused(db, make_user):
    editor = make_user("editor")
    topics.add_site_topic_word(editor, "party")
    db.session.commit()
    with pytest.raises(InvalidInput, match="already on the list"):
        topics.add_site_topic_word(editor, "PARTY")
