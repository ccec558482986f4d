"""Markdown in, safe HTML out: markdown-it-py renders, nh3 (ammonia) sanitises.

Raw HTML in the source is never passed through; the sanitiser is the last
word on what reaches a reader's browser, whatever the renderer produced.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ARTICLE_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
COMMENT_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
    "del",
}
COMMENT_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _article_renderer() -> MarkdownIt:
    # "html": False makes raw HTML in the source come out as text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


@lru_cache(maxsize=1)
def _comment_renderer() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": False})
        .enable("strikethrough")
        .disable(["image", "heading", "lheading", "table"], ignoreInvalid=True)
    )


def render_article(markdown: str) -> str:
    """Editors' Markdown as sanitised HTML (headings, tables and images allowed)."""
    html = _article_renderer().render(markdown)
    return nh3.clean(
        html,
        tags=ARTICLE_TAGS,
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_comment(markdown: str) -> str:
    """Readers' Markdown subset: emphasis, links, quotes, code and lists only."""
    html = _comment_renderer().render(markdown)
    return nh3.clean(
        html,
        tags=COMMENT_TAGS,
        attributes=COMMENT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
    )


def plain_text(html: str) -> str:
    """Text of sanitised HTML, for feeds and summaries."""
    return nh3.clean(html, tags=set(), attributes={}).strip()
