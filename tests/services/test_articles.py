"""The articles service on its own: typed values in, domain errors out (the API's JSON
and cursors are read in webapp/api and webapp/pagination)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import days_ago
from webapp.errors import InvalidInput, MalformedRequest
from webapp.services import articles


def test_published_articles_page_by_a_typed_key(app: Any, make_article: Callable[..., Any]) -> None:
    made = [make_article(f"Day {age}", published_at=days_ago(age)) for age in range(3)]
    make_article("A draft", status="draft")
    first, key = articles.list_published(2)
    assert [a.title for a in first] == ["Day 0", "Day 1"]
    assert key == (made[1].published_at, made[1].id)
    rest, last_key = articles.list_published(2, key)
    assert [a.title for a in rest] == ["Day 2"]
    assert last_key is None


def test_bad_values_are_invalid_input_naming_each_field(
    app: Any, make_user: Callable[..., Any]
) -> None:
    changes = articles.ArticleChanges(
        title=" ",
        body="Text.",
        status="archived",
        poll=articles.PollInput(question="Q?", options=["Only one"]),
    )
    with pytest.raises(InvalidInput) as refused:
        articles.create_article(make_user("editor"), changes)
    assert not isinstance(refused.value, MalformedRequest)
    # No slug can be made from a blank title either.
    assert set(refused.value.fields or {}) == {"title", "slug", "status", "poll.options"}


def test_an_edit_checks_and_changes_only_the_fields_it_names(
    app: Any, make_article: Callable[..., Any]
) -> None:
    article = make_article("Kept title", labels=["Asia"])
    changes = articles.ArticleChanges(summary="  New summary  ", present={"summary"})
    articles.update_article(article, changes)
    assert (article.title, article.summary) == ("Kept title", "New summary")
    assert [label.name for label in article.labels] == ["Asia"]
    with pytest.raises(InvalidInput) as refused:
        articles.update_article(article, articles.ArticleChanges(slug="", present={"slug"}))
    assert refused.value.fields == {"slug": "required"}
