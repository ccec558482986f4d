"""Threads by the host page: a site's page names its thread by a stable id or by its
canonical URL; with "create on first view" the first view makes the article."""

from __future__ import annotations

import secrets
import unicodedata
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.errors import Conflict, Forbidden, InvalidInput
from webapp.extensions import db
from webapp.models import Article, ArticleStatus, utcnow
from webapp.models.embed import EmbedSite, EmbedThread
from webapp.services.articles.rules import slugify
from webapp.services.embed.origins import origin_of_url
from webapp.text import clean_line, has_unstorable

MAX_KEY_LENGTH = 500
MAX_URL_LENGTH = 2000
MAX_TITLE_LENGTH = 200


class PageNotOnSite(Forbidden):
    code, message = "origin_not_allowed", "This page is not on one of the site's origins."


class ThreadTaken(Conflict):
    code, message = "thread_taken", "This page's thread is another article's."


def normalise_page_url(url: str) -> str:
    """A host page's URL as a thread key: normalised origin, the path ("/" when none),
    the query kept (some sites name pages by it), the fragment dropped."""
    if has_unstorable(url) or len(url) > MAX_URL_LENGTH:
        raise InvalidInput("The page's address is not valid.", fields={"url": "not a URL"})
    origin = origin_of_url(url)
    if origin is None:
        raise InvalidInput(
            "The page's address is not valid.", fields={"url": "must be an http(s) URL"}
        )
    parts = urlsplit(url.strip())
    normalised = origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if len(normalised) > MAX_URL_LENGTH:
        raise InvalidInput("The page's address is too long.", fields={"url": "too long"})
    return normalised


def page_url_on_site(site: EmbedSite, url: str) -> str:
    """``url`` normalised, or PageNotOnSite when it is not on one of the site's origins
    (a page elsewhere must not open threads in this site's name)."""
    normalised = normalise_page_url(url)
    if origin_of_url(normalised) not in site.origins:
        raise PageNotOnSite()
    return normalised


def thread_key(site: EmbedSite, key: str | None = None, url: str | None = None) -> str:
    """The key a thread is stored under: the host's id (a single clean line), or its
    page URL normalised (an id that is itself a URL is normalised the same way, so both
    ways of naming the page meet)."""
    if key is not None and key.strip():
        if has_unstorable(key):
            raise InvalidInput("The thread's id is not valid.", fields={"key": "not storable"})
        text = clean_line(key)
        if text.lower().startswith(("http://", "https://")):
            return page_url_on_site(site, text)
        if len(text) > MAX_KEY_LENGTH:
            raise InvalidInput("The thread's id is too long.", fields={"key": "too long"})
        return text
    if url:
        return page_url_on_site(site, url)
    raise InvalidInput("Name the thread by an id or a URL.", fields={"key": "required"})


def find_thread(site: EmbedSite, key: str) -> EmbedThread | None:
    return db.session.scalar(
        select(EmbedThread).where(EmbedThread.site_id == site.id, EmbedThread.key == key)
    )


def clean_title(title: str | None, fallback: str) -> str:
    """A host page's title as an article's: hostile characters out (the page is not
    ours), one line, at most MAX_TITLE_LENGTH; ``fallback`` when nothing is left."""
    # Lone surrogates and NUL go (not storable), and so do format characters (Cf):
    # a bidi override in a title would turn the text around it in Pulse's pages.
    kept = "".join(
        char
        for char in title or ""
        if char != "\x00"
        and not 0xD800 <= ord(char) <= 0xDFFF
        and unicodedata.category(char) != "Cf"
    )
    text = clean_line(kept) or clean_line(fallback)
    if len(text) > MAX_TITLE_LENGTH:
        text = text[: MAX_TITLE_LENGTH - 1].rstrip() + "…"
    return text


def resolve_thread(
    site: EmbedSite,
    key: str | None = None,
    url: str | None = None,
    title: str | None = None,
    create: bool = True,
) -> Article | None:
    """The article of a host page's thread; None when it has none and none may be made
    (the site does not create on first view, or ``create`` is false).

    InvalidInput for a key or URL that cannot be one, PageNotOnSite for a URL off the
    site's origins. A made article is published (readers comment at once) but not
    listed on Pulse's own pages, its body empty; two first views at once make one
    (the unique (site, key) decides, the loser reads the winner's)."""
    stored_key = thread_key(site, key, url)
    page_url = page_url_on_site(site, url) if url else None
    found = find_thread(site, stored_key)
    if found is not None:
        return found.article
    if not (create and site.create_on_first_view):
        return None
    fallback = page_url or stored_key
    article_title = clean_title(title, fallback)
    now = utcnow()
    article = Article(
        slug=f"{slugify(article_title, 80) or 'thread'}-{secrets.token_hex(4)}",
        title=article_title,
        summary="",
        body="",
        html="",
        status=ArticleStatus.PUBLISHED.value,
        published_at=now,
        comment_mode=site.comment_mode,
        author_id=site.created_by_id,
        listed=False,
    )
    thread = EmbedThread(
        site_id=site.id, key=stored_key, url=page_url, article=article, created_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(thread)
            db.session.flush()
    except IntegrityError:
        # Another first view of the same page won: its thread stands.
        winner = find_thread(site, stored_key)
        if winner is None:
            raise
        return winner.article
    return article


def attach_article(
    site: EmbedSite, article: Article, key: str | None = None, url: str | None = None
) -> EmbedThread:
    """Name ``article`` (an editor's, listed as ever) as the thread of a site's page,
    so a site that does not create on first view can embed it. ThreadTaken when the
    page already has another article; attaching the same one again changes nothing."""
    stored_key = thread_key(site, key, url)
    found = find_thread(site, stored_key)
    if found is not None:
        if found.article_id != article.id:
            raise ThreadTaken(fields={"key": "this page already has another article"})
        return found
    thread = EmbedThread(
        site_id=site.id,
        key=stored_key,
        url=page_url_on_site(site, url) if url else None,
        article_id=article.id,
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(thread)
            db.session.flush()
    except IntegrityError as exc:
        raise ThreadTaken(fields={"key": "this page already has another article"}) from exc
    return thread


def detach(thread: EmbedThread) -> None:
    db.session.delete(thread)
    db.session.flush()


def threads_of(site: EmbedSite, limit: int = 200) -> list[EmbedThread]:
    """The site's threads, newest first (the site's admin page lists them)."""
    return list(
        db.session.scalars(
            select(EmbedThread)
            .where(EmbedThread.site_id == site.id)
            .order_by(EmbedThread.created_at.desc(), EmbedThread.id.desc())
            .limit(limit)
        )
    )
