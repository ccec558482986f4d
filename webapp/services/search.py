"""Site search over the articles readers can see: PostgreSQL's full-text search
(``articles.search_document``, GIN-indexed) or SQLite's FTS5 (``articles_search``),
both kept in step by the database (webapp/models/search_index.py).

A reader's query is never handed to either engine's query syntax: it is cut into
words (letters and digits), at most ``MAX_TERMS`` of them, and each word is quoted
(FTS5) or passed through ``plainto_tsquery`` (PostgreSQL), so ``OR``, ``NEAR``,
``-``, quotes, ``*`` or a column filter in the box are words to look for, never
operators, and no input makes the engine fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from webapp.extensions import db
from webapp.models import Article, User, utcnow
from webapp.models.articles import public_articles_at
from webapp.models.search_index import FTS_TABLE

MAX_TERMS = 8
MAX_QUERY_LENGTH = 200
#: Results on a page, and the most pages a query pages through.
PER_PAGE = 10
MAX_PAGES = 20
_WORD = re.compile(r"\w+", re.UNICODE)
# Around the matched words in a snippet: private-use characters no text carries,
# replaced by <mark> once the snippet is escaped.
_START, _STOP = "\ue000", "\ue001"


@dataclass(frozen=True)
class SearchHit:
    slug: str
    title: str
    summary: str
    published_at: datetime | None
    author_name: str
    #: Where the words were found, escaped, the words in <mark>.
    snippet: Markup


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    #: Whether a further page exists.
    more: bool


def search_terms(query: str) -> list[str]:
    """The words to look for: letters and digits only, lower-cased, in order, each
    once, at most MAX_TERMS."""
    seen: list[str] = []
    for word in _WORD.findall(query[:MAX_QUERY_LENGTH].lower()):
        word = word.replace("_", "")
        if word and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 query that finds every one of ``terms`` (each quoted: a string, never
    syntax; the last one also as a prefix, for a word still being typed)."""
    quoted = [f'"{term}"' for term in terms]
    quoted[-1] = quoted[-1] + " *" if len(terms[-1]) >= 3 else quoted[-1]
    return " ".join(quoted)


def _marked(snippet: str | None) -> Markup:
    """The engine's snippet, escaped, its marked words in <mark> (unbalanced markers,
    should a text hold one, are dropped)."""
    text = str(escape(snippet or ""))
    parts = re.split(f"([{_START}{_STOP}])", text)
    out: list[str] = []
    open_ = False
    for part in parts:
        if part == _START and not open_:
            out.append("<mark>")
            open_ = True
        elif part == _STOP and open_:
            out.append("</mark>")
            open_ = False
        elif part not in (_START, _STOP):
            out.append(part)
    if open_:
        out.append("</mark>")
    # Safe: every piece of text was escaped above; only <mark> tags are added.
    return Markup("".join(out))  # nosec B704


def search(query: str, page: int = 1) -> SearchResults:
    """The published articles that hold every word of ``query``, best match first
    (then newest), a page of PER_PAGE."""
    terms = search_terms(query)
    if not terms or page < 1 or page > MAX_PAGES:
        return SearchResults(query, [], False)
    if db.session.get_bind().dialect.name == "postgresql":
        rows = _search_postgresql(terms, page)
    else:
        rows = _search_sqlite(terms, page)
    hits = [
        SearchHit(slug, title, summary, published_at, author, _marked(snippet))
        for slug, title, summary, published_at, author, snippet in rows[:PER_PAGE]
    ]
    return SearchResults(query, hits, len(rows) > PER_PAGE and page < MAX_PAGES)


def _search_postgresql(terms: list[str], page: int) -> list[tuple[Any, ...]]:
    tsquery = sa.func.plainto_tsquery(sa.literal_column("'english'"), " ".join(terms))
    document = Article.__table__.c.search_document
    ranked = (
        sa.select(
            Article.id,
            Article.slug,
            Article.title,
            Article.summary,
            Article.published_at,
            Article.body,
            User.display_name,
            sa.func.ts_rank_cd(document, tsquery).label("rank"),
        )
        .join(User, User.id == Article.author_id)
        .where(public_articles_at(utcnow()), document.op("@@")(tsquery))
        .order_by(sa.desc("rank"), Article.published_at.desc(), Article.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .subquery()
    )
    # The snippet only for the page's rows (ts_headline reads the whole text).
    headline = sa.func.ts_headline(
        sa.literal_column("'english'"),
        ranked.c.body,
        tsquery,
        f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2",
    )
    return list(
        db.session.execute(
            sa.select(
                ranked.c.slug,
                ranked.c.title,
                ranked.c.summary,
                ranked.c.published_at,
                ranked.c.display_name,
                headline,
            ).order_by(ranked.c.rank.desc(), ranked.c.published_at.desc(), ranked.c.id.desc())
        ).tuples()
    )


def _search_sqlite(terms: list[str], page: int) -> list[tuple[Any, ...]]:
    fts = sa.table(FTS_TABLE, sa.column("rowid"), sa.column(FTS_TABLE))
    match = fts5_match(terms)
    # Title counts most, then the summary, then the body (bm25: lower is better).
    rank = sa.func.bm25(sa.literal_column(FTS_TABLE), 10.0, 4.0, 1.0)
    snippet = sa.func.snippet(sa.literal_column(FTS_TABLE), 2, _START, _STOP, "…", 24)
    query = (
        sa.select(
            Article.slug,
            Article.title,
            Article.summary,
            Article.published_at,
            User.display_name,
            snippet,
        )
        .select_from(fts)
        .join(Article, Article.id == fts.c.rowid)
        .join(User, User.id == Article.author_id)
        .where(sa.literal_column(FTS_TABLE).op("MATCH")(match), public_articles_at(utcnow()))
        .order_by(rank, Article.published_at.desc(), Article.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    )
    return list(db.session.execute(query).tuples())
