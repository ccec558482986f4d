"""Articles: reading the published list and one article, and writing them (editors).

An article's poll is written with it (``PollInput``, in ``polls``); its links to the
previous and next article are ``ArticleLink``, which the moderation queue uses too.
"""

from __future__ import annotations

from typing import Any

from webapp.api.openapi.operations import (
    ANYONE,
    LIST,
    UNSAFE,
    UNSAFE_SIGNED_IN,
    operation,
    param,
    query,
)
from webapp.api.openapi.primitives import (
    INTEGER,
    PERSON,
    STRING,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    ref,
)
from webapp.models import ArticleStatus, CommentMode
from webapp.services.articles import MAX_BODY as MAX_ARTICLE
from webapp.services.articles import MAX_LABELS, MAX_SLUG, MAX_SUMMARY, MAX_TITLE

SCHEMAS: dict[str, Schema] = {
    "ArticleLink": obj({"slug": STRING, "title": STRING}),
    "ArticleInput": obj(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
            "body": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_ARTICLE,
                "description": "Markdown.",
            },
            "slug": nullable(
                {
                    "type": "string",
                    "maxLength": MAX_SLUG,
                    "description": "Lower-case letters, digits and single hyphens "
                    "(trimmed and lower-cased first; 422 otherwise). Made from the title "
                    "when absent.",
                }
            ),
            "summary": nullable({"type": "string", "maxLength": MAX_SUMMARY}),
            "labels": nullable({"type": "array", "items": STRING, "maxItems": MAX_LABELS}),
            "status": nullable(enum_of(ArticleStatus)),
            "comments": nullable(enum_of(CommentMode)),
            "poll": {"anyOf": [ref("PollInput"), {"type": "null"}]},
        },
        [],
        description="An edit sends only what changes (`poll: null` removes a poll "
        "without votes); null leaves the other fields as they are.",
    ),
    "NewArticle": {
        "allOf": [ref("ArticleInput"), {"required": ["title", "body"]}],
        "description": "An article to create: `title` and `body` at least.",
    },
    "Article": obj(
        {
            "id": INTEGER,
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "labels": {"type": "array", "items": STRING},
            "status": enum_of(ArticleStatus),
            "comments": enum_of(CommentMode),
            "published_at": nullable(TIME),
            "updated_at": nullable(TIME),
            "author": PERSON,
            "comment_count": {"type": "integer", "minimum": 0},
            "url": STRING,
            "body": STRING,
            "html": {"type": "string", "description": "Sanitised render of the body."},
            "previous": nullable(ref("ArticleLink")),
            "next": nullable(ref("ArticleLink")),
            "poll": nullable(ref("Poll")),
        }
    ),
    "ArticlePage": obj(
        {"items": {"type": "array", "items": ref("Article")}, "next_cursor": nullable(STRING)}
    ),
}

PATHS: dict[str, Any] = {
    "/articles": {
        "get": operation(
            "list_articles",
            "Published articles, newest first",
            "articles",
            {200: ref("ArticlePage")},
            [400, 422],
            security=ANYONE,
            parameters=[query("label", STRING, "A label's slug."), *LIST],
        ),
        "post": operation(
            "create_article",
            "Write an article (editors)",
            "articles",
            {201: ref("Article")},
            [*UNSAFE, 401, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="NewArticle",
            description="409 `slug_taken`; 422 with `fields` for invalid values.",
        ),
    },
    "/articles/{slug}": {
        "parameters": [param("slug")],
        "get": operation(
            "get_article",
            "One article (editors also see drafts)",
            "articles",
            {200: ref("Article")},
            [404],
            security=ANYONE,
        ),
        "patch": operation(
            "update_article",
            "Change an article (editors)",
            "articles",
            {200: ref("Article")},
            [*UNSAFE, 401, 404, 409, 422],
            security=UNSAFE_SIGNED_IN,
            body="ArticleInput",
        ),
    },
}
