from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, days_ago


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_lists_published_articles_newest_first_and_hides_drafts(client, make_article):
    make_article("Older story", published_at=days_ago(2), labels=["Asia"])
    make_article("Newer story", published_at=days_ago(1))
    make_article("Secret draft", status="draft")
    page = text(client.get("/"))
    assert page.index("Newer story") < page.index("Older story")
    assert "Secret draft" not in page
    assert '<a href="/labels/asia">Asia</a>' in page


def test_home_is_paginated(make_app, make_article):
    app = make_app(ARTICLES_PER_PAGE=2)
    with app.app_context():
        for age in range(5):
            make_article(f"Story {age}", published_at=days_ago(age))
        client = app.test_client()
        first, third = text(client.get("/")), text(client.get("/?page=3"))
        assert "Story 0" in first and "Story 1" in first and "Story 2" not in first
        assert "Page 1 of 3" in first
        assert 'href="/?page=2"' in first
        assert "Story 4" in third and "Story 0" not in third
        assert client.get("/?page=9").status_code == 404
        assert client.get("/?page=abc").status_code == 404


def test_article_page_shows_title_author_date_labels_body_and_neighbours(client, make_article):
    older = make_article("The day before", published_at=days_ago(2))
    article = make_article(
        "The ceasefire", published_at=days_ago(1), labels=["Diplomacy"], body="A *careful* peace."
    )
    newer = make_article("The day after", published_at=days_ago(0.5))
    page = text(client.get(f"/articles/{article.slug}"))
    assert '<h1 id="story-title">The ceasefire</h1>' in page
    assert article.author.display_name in page
    assert article.published_at.strftime("%B %Y") in page
    assert '<a href="/labels/diplomacy">Diplomacy</a>' in page
    assert "<em>careful</em>" in page
    assert re.search(rf'rel="prev" href="/articles/{older.slug}"><span>Previous post</span>', page)
    assert re.search(rf'rel="next" href="/articles/{newer.slug}"><span>Next post</span>', page)


def test_draft_article_page_is_404_for_readers_and_visible_to_editors(
    api, make_api, make_user, make_article
):
    draft = make_article("Unfinished", status="draft")
    response = api.get(f"/articles/{draft.slug}")
    assert response.status_code == 404
    assert "Page not found" in text(response)
    editor = make_api()
    editor.login(make_user(role="editor"))
    page = editor.get(f"/articles/{draft.slug}")
    assert page.status_code == 200
    assert "only editors can see this page" in text(page)


def test_label_page_lists_only_that_labels_articles(client, make_article):
    make_article("Tagged", labels=["South Asia"])
    make_article("Untagged")
    page = text(client.get("/labels/south-asia"))
    assert "Tagged" in page and "Untagged" not in page
    assert client.get("/labels/nothing-here").status_code == 404


def test_atom_feed_lists_published_articles(client, make_article):
    make_article("Feed me", labels=["Asia"], body="Some <b>text</b> & more")
    make_article("Not yet", status="draft")
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response.get_data())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.text for e in root.findall("a:entry/a:title", ns)]
    assert titles == ["Feed me"]
    assert root.find("a:entry/a:category", ns).get("term") == "asia"


def test_article_poll_renders_as_a_form_and_results(client, make_article):
    article = make_article(poll={"allow_anonymous": True})
    page = text(client.get(f"/articles/{article.slug}"))
    assert "Will the peace hold?" in page
    assert page.count('type="radio" name="option_id"') == 3
    assert f'action="/articles/{article.slug}/poll"' in page
    # Results are "always" visible by default: the chart is there, with text numbers.
    assert "0 votes" in page


def test_registration_form_keeps_what_was_typed_and_explains(api):
    response = api.form(
        "/register", {"display_name": "Sam", "email": "sam@example.org", "password": "short"}
    )
    assert response.status_code == 422
    page = text(response)
    assert 'value="Sam"' in page and 'value="sam@example.org"' in page
    assert "at least 10 characters" in page.lower() or "between 10" in page.lower()


def test_register_sign_in_and_out_through_the_pages(api, make_user):
    response = api.form(
        "/register",
        {"display_name": "Sam", "email": "Sam@Example.org", "password": "long enough pw"},
    )
    assert response.status_code == 302
    assert "Signed in as <strong>Sam</strong>" in text(api.get("/"))
    assert api.form("/logout", {}).status_code == 302
    assert "Sign in" in text(api.get("/"))
    failed = api.form("/login", {"email": "sam@example.org", "password": "wrong password"})
    assert failed.status_code == 401
    assert "Wrong email or password" in text(failed)
    assert 'value="sam@example.org"' in text(failed)
    ok = api.form(
        "/login", {"email": "sam@example.org", "password": "long enough pw", "next": "/labels/x"}
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/labels/x"


def test_login_never_redirects_to_another_site(api, make_user):
    user = make_user()
    response = api.form(
        "/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example/steal"}
    )
    assert response.headers["Location"] == "/"


def test_forms_without_csrf_token_are_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Security check failed" in text(response)


EDITOR_PAGES = [
    ("GET", "/editor/"),
    ("GET", "/editor/articles/new"),
    ("POST", "/editor/articles/new"),
    ("GET", "/editor/articles/{id}/edit"),
    ("POST", "/editor/articles/{id}/edit"),
    ("POST", "/editor/articles/{id}/publish"),
    ("POST", "/editor/articles/{id}/unpublish"),
]


@pytest.mark.parametrize("method, path", EDITOR_PAGES)
def test_editor_pages_are_401_signed_out_and_403_for_readers_and_moderators(
    make_api, make_user, make_article, method, path
):
    article = make_article(status="draft")
    url = path.format(id=article.id)
    anonymous = make_api()
    response = anonymous.get(url) if method == "GET" else anonymous.form(url, {})
    assert response.status_code == 401
    assert "Sign in" in text(response)
    for role in ("reader", "moderator"):
        visitor = make_api()
        visitor.login(make_user(role=role))
        response = visitor.get(url) if method == "GET" else visitor.form(url, {})
        assert response.status_code == 403, role
        assert "Not allowed" in text(response)
    editor = make_api()
    editor.login(make_user(role="editor"))
    response = editor.get(url) if method == "GET" else editor.form(url, {})
    assert response.status_code in (200, 302, 422)


@pytest.fixture
def editor(make_api, make_user):
    client = make_api()
    client.login(make_user(role="editor"))
    return client


def _article_form(**overrides):
    data = {
        "title": "Talks resume in Riyadh",
        "slug": "",
        "summary": "Short.",
        "body": "The **delegations** met.",
        "labels": "Diplomacy, South Asia",
        "comments": "premoderated",
        "poll_question": "Will talks succeed?",
        "poll_options-0": "Yes",
        "poll_options-1": "No",
        "poll_options-2": "",
        "poll_closes_at": "2099-05-01T12:00",
        "poll_results_visibility": "after_vote",
        "poll_allow_anonymous": "y",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_editor_writes_saves_a_draft_then_publishes(editor, api, db):
    from webapp.models import Article

    response = editor.form("/editor/articles/new", _article_form())
    assert response.status_code == 302
    article = db.session.scalar(db.select(Article))
    assert article.slug == "talks-resume-in-riyadh"
    assert article.status == "draft"
    assert article.comment_mode == "premoderated"
    assert [label.name for label in article.labels] == ["Diplomacy", "South Asia"]
    assert [o.label for o in article.poll.options] == ["Yes", "No"]
    assert article.poll.closes_at.year == 2099
    assert article.poll.allow_anonymous is True
    assert api.get(f"/articles/{article.slug}").status_code == 404

    dashboard = text(editor.get("/editor/"))
    assert "Talks resume in Riyadh" in dashboard and "Draft" in dashboard

    assert editor.form(f"/editor/articles/{article.id}/publish", {}).status_code == 302
    assert api.get(f"/articles/{article.slug}").status_code == 200
    assert editor.form(f"/editor/articles/{article.id}/unpublish", {}).status_code == 302
    assert api.get(f"/articles/{article.slug}").status_code == 404


def test_editor_form_publish_button_publishes(editor, api, db):
    from webapp.models import Article

    editor.form("/editor/articles/new", _article_form(action="publish"))
    article = db.session.scalar(db.select(Article))
    assert article.status == "published" and article.published_at is not None


def test_editor_preview_renders_markdown_without_saving(editor, db):
    from webapp.models import Article

    response = editor.form("/editor/articles/new", _article_form(action="preview"))
    assert response.status_code == 200
    assert "<strong>delegations</strong>" in text(response)
    assert db.session.scalar(db.select(Article)) is None


def test_editor_form_errors_keep_what_was_typed(editor, make_article):
    taken = make_article("Existing")
    response = editor.form(
        "/editor/articles/new", _article_form(slug=taken.slug, **{"poll_options-1": ""})
    )
    assert response.status_code == 422
    page = text(response)
    assert 'value="Talks resume in Riyadh"' in page
    assert "The **delegations** met." in page
    assert "between 2 and 10 options" in page


def test_editor_edits_an_article_and_closes_its_poll(editor, make_article, db):
    article = make_article("Before", poll=True)
    page = text(editor.get(f"/editor/articles/{article.id}/edit"))
    assert 'value="Before"' in page and 'value="Too early to tell"' in page
    response = editor.form(
        f"/editor/articles/{article.id}/edit",
        _article_form(
            title="After", slug=article.slug, poll_closed="y", **{"poll_options-2": "Maybe"}
        ),
    )
    assert response.status_code == 302
    db.session.refresh(article)
    assert article.title == "After"
    assert [o.label for o in article.poll.options] == ["Yes", "No", "Maybe"]
    assert article.poll.closed_at is not None


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert "Back to the latest articles" in text(response)
