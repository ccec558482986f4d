"""The editors' page for the site-wide topic words (issue 17): a plain form, no script."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.models import ModerationAction
from webapp.models.topic_words import SiteTopicWord
from webapp.services import comments
from webapp.services.insights import topics

PAGE = "/editor/topic-words"
REMOVE = "/editor/topic-words/remove"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def listed(db) -> list[str]:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return list(db.session.scalars(sa.select(SiteTopicWord.word).order_by(SiteTopicWord.word)))


@pytest.fixture
def editor(make_api, make_user):  # type: ignore[no-untyped-def]
    client = make_api()
    client.login(make_user(role="editor"))
    return client


@pytest.mark.parametrize(("role", "expected"), [(None, 401), ("reader", 403), ("moderator", 403)])
def test_only_editors_and_admins_reach_the_page(make_api, make_user, db, role, expected):
    client = make_api()
    if role:
        client.login(make_user(role=role))
    assert client.get(PAGE).status_code == expected
    assert client.form(PAGE, {"word": "peace"}).status_code == expected
    assert client.form(REMOVE, {"word": "peace"}).status_code == expected
    assert listed(db) == []
    admin = make_api()
    admin.login(make_user(role="admin"))
    assert admin.get(PAGE).status_code == 200


def test_the_desk_links_to_the_page_which_says_when_changes_apply(editor):
    assert f'href="{PAGE}"' in text(editor.get("/editor/"))
    page = text(editor.get(PAGE))
    assert "comments scored afterwards" in page
    assert "flask --app wsgi sentiment rescore" in page
    assert '<label for="word">Word</label>' in page
    assert 'name="csrf_token"' in page


def test_an_editor_adds_a_word_and_new_comments_read_it_as_no_opinion(
    editor, db, make_article, make_user
):
    article = make_article(title="The final: a report")
    reader = make_user()
    text_ = "United are through to the final"
    assert comments.submit(article, reader, text_).sentiment_label == "positive"
    db.session.commit()

    response = editor.form(PAGE, {"word": " United "})
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    assert listed(db) == ["united"]
    page = text(editor.get(PAGE))
    assert "“united” is now a topic word." in page
    assert re.search(r'<th scope="row">united</th>', page)
    entry = db.session.scalars(sa.select(ModerationAction)).one()
    assert entry.details == {"term": "united", "kind": "topic word"}

    assert comments.submit(article, reader, text_).sentiment_label == "neutral"


def test_a_refused_word_comes_back_as_typed_with_the_reason(editor, db):
    response = editor.form(PAGE, {"word": "won't"})
    assert response.status_code == 422
    page = text(response)
    assert 'value="won&#39;t"' in page
    assert 'id="word-error"' in page and "keeps that role" in page
    assert 'aria-invalid="true"' in page
    assert listed(db) == []
    assert db.session.scalars(sa.select(ModerationAction)).all() == []


def test_a_word_already_listed_is_refused_not_doubled(editor, db):
    assert editor.form(PAGE, {"word": "party"}).status_code == 302
    response = editor.form(PAGE, {"word": "Party"})
    assert response.status_code == 422
    assert "already on the list" in text(response)
    assert listed(db) == ["party"]


def test_removing_a_word_takes_it_off_and_removing_it_again_is_harmless(editor, db, make_user):
    topics.add_site_topic_word(make_user("editor"), "security")
    db.session.commit()
    page = text(editor.get(PAGE))
    assert f'action="{REMOVE}"' in page and 'name="word" value="security"' in page
    assert editor.form(REMOVE, {"word": "security"}).status_code == 302
    assert listed(db) == []
    again = editor.form(REMOVE, {"word": "security"}, follow_redirects=True)
    assert again.status_code == 200 and "was not on the list" in text(again)


def test_a_form_without_its_csrf_token_changes_nothing(editor, db):
    response = editor.client.post(PAGE, data={"word": "peace"})
    assert response.status_code == 403  # the app's answer to a missing token
    assert listed(db) == []


def test_text_no_column_can_store_is_a_400_not_a_500(editor, db):
    assert editor.form(PAGE, {"word": "pea\x00ce"}).status_code == 400
    assert listed(db) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=st.text(max_size=60))
def test_whatever_is_typed_the_page_answers_with_a_word_or_a_reason(editor, db, typed):
    response = editor.form(PAGE, {"word": typed})
    assert response.status_code in {302, 400, 422}, typed
    words = listed(db)
    if response.status_code == 302:
        assert len(words) == 1 and words[0] == words[0].lower() and " " not in words[0]
        assert editor.form(REMOVE, {"word": words[0]}).status_code == 302
    assert listed(db) == []
