"""Topic words: the words that name what an article is about, which a comment's tone
must not count as opinion (issue 17).

VADER rates "peace" +2.5, so on an article about a ceasefire "This peace won't last
a week" scored +0.54, and every average was pushed up by the subject's own
vocabulary. A comment is therefore scored with its article's topic words carrying no
valence: the words of the title, the poll's question and options and the labels,
plus a short site-wide list editors keep (``site_topic_words``: words that name a
subject wherever they appear, such as "united" in "United Nations").

What is and is not a topic word:

- Words are read the way VADER reads a comment (split on whitespace, punctuation
  stripped from both ends, lower case); a hyphenated word also gives its parts, so
  "India-Pakistan" and "peace-talks" cover "peace" written alone.
- Function words are never topic words: most carry no valence anyway, and the few
  VADER rates ("yes", "no", "like", "well", "please", "ok") are how readers answer,
  not what the article is about.
- Words that change the meaning of their neighbours keep that role: VADER's negations
  ("not", "won't", "never", ...), its boosters and dampeners ("very", "barely", ...)
  and the words its rules look for ("no", "but", "least", "kind", "sort"). So "This
  peace won't last a week" loses "peace" but "won't" still negates what follows it.

Every other word stays, whether or not the analyser knows it: an analyser ignores the
topic words it has no valence for.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE

from webapp.caching import TOPIC_WORDS
from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Article, Label, ModerationActionKind, Poll, PollOption, User
from webapp.models import article_labels as _ARTICLE_LABELS
from webapp.models.topic_words import SiteTopicWord
from webapp.services.moderation.audit import record
from webapp.text import clean_line

#: The longest word the site-wide list keeps (its column's size).
MAX_WORD = 50

#: Stripped from both ends of a word: ASCII punctuation as VADER strips it, and the
#: typographic quotes and dashes titles are written with.
_PUNCTUATION = string.punctuation + "\u2018\u2019\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026"

#: English function words: they do not name a subject. Those VADER rates are the ones
#: that matter (yes, no, ok, okay, like, well, please); the rest keep the set small.
_STOP_WORDS_TEXT = """
a about above after again against all also although am an and any are as at be because
been before being below between both but by can could did do does doing down during each
even ever few for from further had has have having he her here hers herself him himself
his how however i if in into is it it's its itself just let like may me might more most
must my myself no nor not now of off ok okay on once only or other our ours ourselves out
over own please same shall she should so some still such than that that's the their
theirs them themselves then there these they this those though through to too under
until up very was we well were what when where whether which while who whom why will with
would yes yet you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

#: Words whose job in VADER is to change their neighbours' valence (negation, boosting,
#: dampening, its "no", "but" and "least" rules): never neutralised, so they keep it.
GRAMMAR_WORDS = frozenset(
    [word.lower() for word in NEGATE]
    + [word for word in BOOSTER_DICT if " " not in word]
    + ["no", "but", "least", "kind", "sort", "of", "without", "doubt", "never", "so", "this"]
)

#: Never topic words, from any source.
NOT_TOPIC_WORDS = STOP_WORDS | GRAMMAR_WORDS


class HasId(Protocol):
    """An article as the callers have it: an ``Article`` or the posting path's copy."""

    @property
    def id(self) -> int: ...


def words_in(text: str) -> set[str]:
    """The words VADER would look up in ``text``, lower case, plus the parts of a
    hyphenated or slashed word. Tokens without a letter (numbers, dashes) are dropped."""
    found: set[str] = set()
    for token in unicodedata.normalize("NFKC", text).split():
        word = token.strip(_PUNCTUATION).lower()
        if not any(character.isalpha() for character in word):
            continue
        found.add(word)
        if "-" in word or "/" in word:
            parts = word.replace("/", "-").split("-")
            found.update(part for part in parts if any(c.isalpha() for c in part))
    return found


def topic_words_from(
    title: str,
    question: str | None,
    options: Iterable[str],
    labels: Iterable[str],
    extra: Iterable[str] = (),
) -> frozenset[str]:
    """An article's topic words from its pieces (pure: the eval helper scores its news
    set with it too): every word of the title, poll question, options and labels, and
    ``extra`` (the site-wide list), less function words and VADER's grammar words."""
    words: set[str] = set()
    for piece in (title, question or "", *options, *labels, *extra):
        words |= words_in(piece)
    return frozenset(words - NOT_TOPIC_WORDS)


# --- reading them -------------------------------------------------------------------------

_POLL = Poll.__table__
_OPTION = PollOption.__table__
_ARTICLE = Article.__table__
_LABEL = Label.__table__
_SITE = SiteTopicWord.__table__

#: (article id, role, text) for each piece of the articles' topics, and (NULL, "site",
#: word) for the site-wide list: one round trip for any number of articles. The ids
#: (integers read from the database) are written into the SQL, as
#: ``comments.storage.literal_ids`` does: four lists of a batch's ids, bound one
#: parameter each, could pass a database's limit on parameters.
_IDS: sa.BindParameter[int] = sa.bindparam(
    "article_ids", type_=sa.Integer, expanding=True, literal_execute=True
)
_PIECES = sa.union_all(
    sa.select(_ARTICLE.c.id, sa.literal_column("'title'"), _ARTICLE.c.title).where(
        _ARTICLE.c.id.in_(_IDS)
    ),
    sa.select(_POLL.c.article_id, sa.literal_column("'question'"), _POLL.c.question).where(
        _POLL.c.article_id.in_(_IDS)
    ),
    sa.select(_POLL.c.article_id, sa.literal_column("'option'"), _OPTION.c.label)
    .join_from(_OPTION, _POLL, _OPTION.c.poll_id == _POLL.c.id)
    .where(_POLL.c.article_id.in_(_IDS)),
    sa.select(_ARTICLE_LABELS.c.article_id, sa.literal_column("'label'"), _LABEL.c.name)
    .join_from(_ARTICLE_LABELS, _LABEL, _ARTICLE_LABELS.c.label_id == _LABEL.c.id)
    .where(_ARTICLE_LABELS.c.article_id.in_(_IDS)),
    sa.select(sa.cast(sa.null(), sa.Integer), sa.literal_column("'site'"), _SITE.c.word),
)


def topic_words_by_article(article_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Each article's topic words, with the site-wide list, in one query: what re-scoring
    reads once per batch. Articles that do not exist get the site-wide words alone."""
    ids = sorted({int(article_id) for article_id in article_ids})
    if not ids:
        return {}
    pieces: dict[int, dict[str, list[str]]] = {
        article_id: {"title": [], "question": [], "option": [], "label": []} for article_id in ids
    }
    site: list[str] = []
    for article_id, role, text in db.session.execute(_PIECES, {"article_ids": ids}).tuples():
        if article_id is None:
            site.append(text)
        else:
            pieces[article_id][role].append(text)
    return {
        article_id: topic_words_from(
            " ".join(parts["title"]),
            " ".join(parts["question"]),
            parts["option"],
            parts["label"],
            site,
        )
        for article_id, parts in pieces.items()
    }


def topic_words_for(article: HasId) -> frozenset[str]:
    """The topic words a comment on ``article`` is scored with, read at most once every
    ``TOPIC_WORDS_CACHE_SECONDS`` per worker (``webapp.caching.TOPIC_WORDS``).

    Every comment on an article needs the same words, and a comment's scoring must
    stay cheap (bench/comments.py), so a worker keeps them a few seconds: an edit to
    the article's title, poll or labels applies to comments scored after that. A
    change to the site-wide list drops the cache of the worker that made it at once.
    """
    return TOPIC_WORDS.get_or_build(("topic-words", article.id), partial(_read, article.id))


def _read(article_id: int) -> frozenset[str]:
    return topic_words_by_article([article_id])[article_id]


# --- the site-wide list -----------------------------------------------------------------


def site_topic_words() -> list[SiteTopicWord]:
    """The site-wide list, alphabetical."""
    return list(db.session.scalars(sa.select(SiteTopicWord).order_by(SiteTopicWord.word)))


def normal_word(typed: str) -> str:
    """The word as the list keeps it, from what an editor typed: one word, in lower case,
    punctuation stripped from its ends; InvalidInput (on the field ``word``) otherwise."""
    text = clean_line(unicodedata.normalize("NFKC", typed))
    if not text:
        raise InvalidInput("Please enter a word.", fields={"word": "Please enter a word."})
    if len(text.split()) > 1:
        message = "One word at a time: comments are read word by word."
        raise InvalidInput(message, fields={"word": message})
    word = text.strip(_PUNCTUATION).lower()
    if not any(character.isalpha() for character in word):
        message = "A topic word needs at least one letter."
        raise InvalidInput(message, fields={"word": message})
    if len(word) > MAX_WORD:
        message = f"At most {MAX_WORD} characters."
        raise InvalidInput(message, fields={"word": message})
    if word in GRAMMAR_WORDS:
        message = (
            f"“{word}” changes the meaning of the words around it (a negation or an "
            "intensifier), so it keeps that role and cannot be a topic word."
        )
        raise InvalidInput(message, fields={"word": message})
    if word in STOP_WORDS:
        message = f"“{word}” is a function word: it names no subject."
        raise InvalidInput(message, fields={"word": message})
    return word


def add_site_topic_word(actor: User, typed: str) -> SiteTopicWord:
    """Put a word on the site-wide list; logged as the actor's "settings" entry in the
    moderation log. Comments scored afterwards read it with no valence; stored scores
    change with ``flask --app wsgi sentiment rescore``. Flushes; the caller commits."""
    word = normal_word(typed)
    existing = db.session.scalar(sa.select(SiteTopicWord).where(SiteTopicWord.word == word))
    if existing is not None:
        message = f"“{word}” is already on the list."
        raise InvalidInput(message, fields={"word": message})
    entry = SiteTopicWord(word=word)
    try:
        # A savepoint: another editor adding the same word at the same moment loses
        # the unique constraint's race with a message, not a 500.
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        message = f"“{word}” is already on the list."
        raise InvalidInput(message, fields={"word": message}) from None
    record(actor, ModerationActionKind.SETTINGS.value, details=_logged(word, "topic word"))
    TOPIC_WORDS.changed()
    db.session.flush()
    return entry


def _logged(word: str, what: str) -> dict[str, str]:
    """The log entry's details, in the keys the log already shows for word lists
    (``settings: “peace” (topic word)``)."""
    return {"term": word, "kind": what}


def remove_site_topic_word(actor: User, typed: str) -> str | None:
    """Take a word off the site-wide list (logged like adding one); the word removed, or
    None when it was not on the list (removing twice is no error: the list is as
    asked). Flushes; the caller commits."""
    word = clean_line(unicodedata.normalize("NFKC", typed)).strip(_PUNCTUATION).lower()
    entry = db.session.scalar(sa.select(SiteTopicWord).where(SiteTopicWord.word == word))
    if entry is None:
        return None
    db.session.delete(entry)
    record(actor, ModerationActionKind.SETTINGS.value, details=_logged(word, "topic word removed"))
    TOPIC_WORDS.changed()
    db.session.flush()
    return word


__all__: Sequence[str] = (
    "GRAMMAR_WORDS",
    "MAX_WORD",
    "NOT_TOPIC_WORDS",
    "STOP_WORDS",
    "add_site_topic_word",
    "normal_word",
    "remove_site_topic_word",
    "site_topic_words",
    "topic_words_by_article",
    "topic_words_for",
    "topic_words_from",
    "words_in",
)
