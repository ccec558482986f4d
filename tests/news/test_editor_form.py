"""The editor's form: three option boxes to start with and more on demand (a post back
without script), the real error next to its field with what was typed kept, and
drafts saved as the editor types (the autosave endpoint the form's script calls)."""

from __future__ import annotations

import re

import pytest


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def editor(api, make_user):  # type: ignore[no-untyped-def]
    api.login(make_user(role="editor"))
    return api


def _form(**extra):  # type: ignore[no-untyped-def]
    return {
        "title": "Harbour reopens",
        "body": "Ships are back.",
        "comments": "open",
        "poll_results_visibility": "always",
        **extra,
    }


def option_boxes(page: str) -> list[str]:
    return re.findall(r'<input[^>]* id="(poll_options-\d+)"', page)


def test_a_new_form_starts_with_three_option_boxes(editor):
    page = text(editor.get("/editor/articles/new"))
    assert option_boxes(page) == ["poll_options-0", "poll_options-1", "poll_options-2"]
    assert 'value="more_options"' in page and "Add another option" in page


def test_add_another_option_without_script_posts_back_one_more_box(editor):
    response = editor.form(
        "/editor/articles/new",
        _form(action="more_options", **{"poll_options-0": "Yes", "poll_options-1": "No"}),
    )
    assert response.status_code == 200
    page = text(response)
    assert len(option_boxes(page)) == 4
    assert re.search(
        r'<input autofocus id="poll_options-3"|id="poll_options-3"[^>]*autofocus', page
    )
    assert 'value="Yes"' in page and 'value="Harbour reopens"' in page  # kept, not saved
    from webapp.extensions import db
    from webapp.models import Article

    assert db.session.query(Article).count() == 0


def test_the_button_goes_once_every_box_is_there(editor):
    filled = {f"poll_options-{i}": f"Option {i}" for i in range(9)}
    page = text(editor.form("/editor/articles/new", _form(action="more_options", **filled)))
    assert len(option_boxes(page)) == 10
    assert "Add another option" not in page


def test_an_edit_shows_every_option_the_poll_has(editor, make_article):
    article = make_article(
        "Five answers", poll={"options": ["One", "Two", "Three", "Four", "Five"]}
    )
    page = text(editor.get(f"/editor/articles/{article.id}/edit"))
    assert len(option_boxes(page)) == 5
    assert 'value="Five"' in page


def test_the_real_error_sits_next_to_its_field(editor, make_article):
    taken = make_article("Taken")
    response = editor.form(
        "/editor/articles/new",
        _form(
            slug=taken.slug,
            poll_question="Will it last?",
            **{"poll_options-0": "Yes", "poll_options-1": "yes"},
            action="save",
        ),
    )
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="poll_options-error" role="alert">options must differ', page)
    assert 'aria-describedby="poll_options-error"' in page
    assert 'value="Will it last?"' in page and 'value="Harbour reopens"' in page
    assert "<h1>New article</h1>" in page


# --- autosave ---------------------------------------------------------------------------


def test_autosave_creates_a_draft_then_updates_it(editor):
    from webapp.extensions import db
    from webapp.models import Article

    page = text(editor.get("/editor/articles/new"))
    assert 'data-autosave-url="/editor/articles/autosave"' in page
    first = editor.form("/editor/articles/autosave", _form())
    assert first.status_code == 200
    body = first.get_json()
    assert body["saved"] is True
    article = db.session.query(Article).one()
    assert article.status == "draft" and article.title == "Harbour reopens"
    assert body["autosave_url"] == f"/editor/articles/{article.id}/autosave"
    assert body["edit_url"] == f"/editor/articles/{article.id}/edit"
    second = editor.form(body["autosave_url"], _form(title="Harbour reopens at last"))
    assert second.get_json()["saved"] is True
    db.session.expire_all()
    assert db.session.query(Article).one().title == "Harbour reopens at last"


def test_autosave_says_what_is_missing_and_never_touches_a_published_article(editor, make_article):
    missing = editor.form("/editor/articles/autosave", _form(title=""))
    assert missing.status_code == 422
    assert "title" in missing.get_json()["fields"]
    live = make_article("Live story")
    refused = editor.form(f"/editor/articles/{live.id}/autosave", _form(title="Changed"))
    assert refused.status_code == 409
    assert "data-autosave-url" not in text(editor.get(f"/editor/articles/{live.id}/edit"))


def test_autosave_needs_the_csrf_token_and_an_editor(api, make_api, make_user):
    reader = make_api()
    reader.login(make_user())
    assert reader.form("/editor/articles/autosave", _form()).status_code in (403, 404)
    editor = make_api()
    editor.login(make_user(role="editor"))
    no_token = editor.client.post("/editor/articles/autosave", data=_form())
    assert no_token.status_code in (400, 403)
