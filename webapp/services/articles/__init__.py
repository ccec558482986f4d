"""Articles: writing, publishing, labels, the closing poll's definition, reading order.

- ``rules``: the limits, slugs, labels, ``ArticleChanges``/``PollInput`` and their
  checks, who may see drafts (no database);
- ``editing``: create, edit, publish, unpublish, labels, set/close/reopen the poll;
- ``reading``: one article, the published ones in order, the editors' list, labels;
- ``neighbours``: the articles published before and after one, cached per worker,
  and those of a whole page at once;
- ``listing``: a page of published articles with each one's neighbours and the
  reader's vote, a query each for the whole page (the API's list).

Services take typed values: the API turns its JSON into ``ArticleChanges``
(webapp/api/article_input.py), the editor's form does the same from its fields.
"""

from webapp.caching import NEIGHBOURS
from webapp.services.articles.editing import (
    close_poll,
    create_article,
    labels_named,
    publish,
    reopen_poll,
    set_poll,
    unpublish,
    update_article,
)
from webapp.services.articles.listing import ListedArticle, published_for_reader, reader_votes
from webapp.services.articles.neighbours import (
    ArticleLink,
    Neighbours,
    neighbours,
    neighbours_at,
    neighbours_of,
)
from webapp.services.articles.reading import (
    DeskRow,
    PageState,
    PublishedKey,
    Topic,
    UpdatedKey,
    articles_for_editors,
    get_article,
    label_by_slug,
    list_published,
    page_of_published,
    public_page_state,
    published_articles_query,
    topics,
)
from webapp.services.articles.rules import (
    MAX_BODY,
    MAX_LABEL,
    MAX_LABELS,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_SLUG,
    MAX_SUMMARY,
    MAX_TITLE,
    MIN_OPTIONS,
    SLUG_PATTERN,
    ArticleChanges,
    PollInput,
    can_see_drafts,
    clean_labels,
    slugify,
    validate_changes,
    validate_poll,
)

__all__ = [
    "MAX_BODY",
    "MAX_LABEL",
    "MAX_LABELS",
    "MAX_OPTION",
    "MAX_OPTIONS",
    "MAX_QUESTION",
    "MAX_SLUG",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "MIN_OPTIONS",
    "NEIGHBOURS",
    "SLUG_PATTERN",
    "ArticleChanges",
    "ArticleLink",
    "DeskRow",
    "PageState",
    "ListedArticle",
    "Neighbours",
    "PollInput",
    "PublishedKey",
    "Topic",
    "UpdatedKey",
    "articles_for_editors",
    "can_see_drafts",
    "clean_labels",
    "close_poll",
    "create_article",
    "get_article",
    "label_by_slug",
    "labels_named",
    "list_published",
    "neighbours",
    "neighbours_at",
    "neighbours_of",
    "page_of_published",
    "public_page_state",
    "publish",
    "published_articles_query",
    "published_for_reader",
    "reader_votes",
    "reopen_poll",
    "set_poll",
    "slugify",
    "topics",
    "unpublish",
    "update_article",
    "validate_changes",
    "validate_poll",
]
