"""Posting a comment or a reply: checked, rendered, scored and assessed first
(``prepare``, which only reads), then written (``store``).

The two routes that post share this path. The page's form runs ``prepare`` then
``store``. The API reads the article with ``article_for_posting`` (kept a moment per
worker) and writes with ``store_if_unchanged``, whose INSERT checks that the article
still is as read; when it is not, the view prepares the comment again against the
article as it is now.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from webapp.caching import POSTING_ARTICLES
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.ids import is_id
from webapp.models import Article, Comment, User, utcnow
from webapp.services import moderation
from webapp.services.accounts import ensure_address_verified, ensure_can_write
from webapp.services.comments import storage
from webapp.services.comments.rules import (
    DEEPEST_SHOWN,
    CommentsClosed,
    can_see,
    check_body,
    comments_open,
    not_a_parent,
)
from webapp.services.comments.storage import PostingArticle
from webapp.services.comments.thread import article_for_comments
from webapp.services.insights import refine
from webapp.services.insights.sentiment import analyse
from webapp.services.insights.topics import topic_words_for
from webapp.services.markup import render_comment

#: The article a comment is posted to: as this worker read it a moment ago
#: (``article_for_posting``), or read afresh.
PostedTo = PostingArticle | Article


def submit(
    article: PostedTo,
    author: User,
    body: str,
    parent_id: int | None = None,
    moment: datetime | None = None,
) -> Comment:
    """Post a comment or a reply. Flushes; the caller commits."""
    return store(prepare(article, author, body, parent_id, moment))


def prepare(
    article: PostedTo,
    author: User,
    body: str,
    parent_id: int | None = None,
    moment: datetime | None = None,
) -> Comment:
    """A new comment or reply, checked, rendered, scored and assessed, not yet stored.

    Only reads (the parent, the author's record): a view can end its read
    transaction after this and write the comment with ``store`` in a transaction of
    its own, so the scoring never runs inside the write transaction.
    """
    moment = moment or utcnow()
    ensure_can_write(author)
    if moderation.current_rules().settings.verified_commenters_only:
        ensure_address_verified(author)
    if not article.is_published:
        raise NotFound("No published article has this address.")
    if not comments_open(article):
        raise CommentsClosed()
    text = check_body(body)
    parent = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id) if is_id(parent_id) else None
        if (
            parent is None
            or parent.article_id != article.id
            or parent.deleted_at is not None
            or not can_see(parent, author)
        ):
            raise not_a_parent()
    comment = Comment(
        article_id=article.id, author_id=author.id, created_at=moment, body="", html=""
    )
    if parent is not None:
        if parent.depth >= DEEPEST_SHOWN:
            # Shown beside its target at the deepest level, naming whom it answers.
            comment.parent_id = parent.parent_id
            comment.in_reply_to_id = parent.id
            comment.depth = DEEPEST_SHOWN
        else:
            comment.parent_id = parent.id
            comment.depth = parent.depth + 1
    write_text(comment, text, author, article, moment)
    return comment


def write_text(
    comment: Comment, text: str, author: User, article: PostedTo, moment: datetime
) -> None:
    """Render, score and check ``text`` into ``comment`` (status, reasons, scores): once,
    when written, so reading a thread only fetches stored HTML."""
    assessment = moderation.assess(
        text, author, article, exclude_comment_id=comment.id, moment=moment
    )
    # Scored with the words naming the article's subject carrying no valence (issue 17).
    # A slow analyser scores in the background (insights.refine), the fast one now.
    refining = refine.analyser_is_slow()
    feeling = (
        refine.score_at_once(text, article) if refining else analyse(text, topic_words_for(article))
    )
    comment.body = text
    comment.html = render_comment(text)
    comment.status = assessment.status
    comment.reasons_held = assessment.reasons_held
    comment.toxicity = assessment.toxicity
    comment.sentiment = feeling.score
    comment.sentiment_label = feeling.label
    # Storing the comment pending queues its re-score, by trigger (models/refine_triggers).
    comment.tone_pending = refining


def store(comment: Comment, subscribe_by_default: bool = False) -> Comment:
    """Write a comment from ``prepare``: its row and its parent's reply count (the
    article's count moves with the row, by trigger), and with ``subscribe_by_default``
    its author's reply subscription if their account ticks the box by default.
    Flushes; the caller commits. The parent is checked again here, as it may have gone
    since it was read (when prepared in an earlier transaction)."""
    storage.store_row(comment, subscribe_by_default=subscribe_by_default)
    return comment


def store_if_unchanged(
    comment: Comment, article: PostedTo, subscribe_by_default: bool = False
) -> bool:
    """``store`` a comment from ``prepare``, prepared against ``article`` as
    ``article_for_posting`` gave it: written only if the article is still published
    under that slug with that comment mode, which the INSERT itself checks. False,
    with nothing written, when it changed meanwhile: read it afresh and prepare the
    comment again. With ``subscribe_by_default``, the author follows its replies if
    their account ticks the box by default (on PostgreSQL in the same statement).
    Flushes; the caller commits."""
    guard = article if isinstance(article, PostingArticle) else None
    return storage.store_row(comment, guard, subscribe_by_default)


def article_for_posting(slug: str, viewer: User | None) -> PostedTo:
    """The published article ``slug`` names, for a new comment, read at most once a
    moment per worker (``webapp.caching.POSTING_ARTICLES``): every comment to it needs the same.

    It may be a moment old: ``store_if_unchanged`` writes the comment only if the
    article is still published under this slug with this comment mode, so a comment
    prepared against an older state is never stored. An article that is not published,
    or whose comments are closed, is read afresh (``article_for_comments``), so a
    comment is refused only for what the article is now.
    """
    try:
        found = POSTING_ARTICLES.get_or_build(("posting", slug), partial(_posting, slug))
    except _NotPublished:
        return article_for_comments(slug, viewer)
    if not comments_open(found):
        return article_for_comments(slug, viewer)  # refused only as it is now
    return found


class _NotPublished(Exception):
    """Raised, not returned, so that no article is kept for a slug that has none."""


def _posting(slug: str) -> PostingArticle:
    found = storage.posting_article(slug)
    if found is None:
        raise _NotPublished
    return found
