from __future__ import annotations

import pytest


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def held(make_article, make_user, db):
    from webapp.services import comments

    article = make_article(comments="premoderated", title="Ceasefire holds")
    author = make_user(name="Waiting Writer")
    comment = comments.submit(article, author, "My held words")
    db.session.commit()
    return article, author, comment


@pytest.fixture
def moderator(make_api, make_user):
    client = make_api()
    client.login(make_user(role="moderator"))
    return client


PAGES = [
    ("GET", "/moderation/"),
    ("GET", "/moderation/queue/pending"),
    ("GET", "/moderation/queue/reported"),
    ("GET", "/moderation/queue/rejected"),
    ("GET", "/moderation/queue/approved"),
    ("POST", "/moderation/comments/{comment}"),
    ("POST", "/moderation/bulk"),
    ("GET", "/moderation/users/{author}"),
    ("POST", "/moderation/users/{author}/ban"),
    ("POST", "/moderation/users/{author}/unban"),
    ("GET", "/moderation/log"),
    ("GET", "/moderation/settings"),
    ("POST", "/moderation/settings"),
    ("POST", "/moderation/terms"),
    ("POST", "/moderation/terms/1/delete"),
]


@pytest.mark.parametrize("method, path", PAGES)
def test_moderation_pages_are_401_signed_out_and_403_for_readers(
    held, make_api, make_user, method, path
):
    _, author, comment = held
    url = path.format(comment=comment.id, author=author.id)
    for role, expected in ((None, 401), ("reader", 403), ("editor", 403)):
        client = make_api()
        if role:
            client.login(make_user(role=role))
        response = client.get(url) if method == "GET" else client.form(url, {})
        assert response.status_code == expected, role


def test_queue_page_shows_the_comment_in_context_and_counts_in_nav(held, moderator):
    page = text(moderator.get("/moderation/queue/pending"))
    assert "My held words" in page
    assert "Waiting Writer" in page and "Ceasefire holds" in page
    assert "article is premoderated" in page
    assert "Keyboard shortcuts" in page and "moderation.js" in page
    assert 'title="pending">1</span>' in page


def test_approving_from_the_queue_shows_it_to_readers(held, moderator, client):
    article, _, comment = held
    response = moderator.form(
        f"/moderation/comments/{comment.id}",
        {"action": "approve", "next": "/moderation/queue/pending"},
    )
    assert response.status_code == 302
    assert "Comment approved." in text(moderator.get("/moderation/queue/pending"))
    assert "My held words" in text(client.get(f"/articles/{article.slug}"))


def test_rejecting_with_a_reason_the_author_sees(held, moderator, make_api):
    article, author, comment = held
    moderator.form(
        f"/moderation/comments/{comment.id}", {"action": "reject", "reason": "Please stay on topic"}
    )
    own = make_api()
    own.login(author)
    page = text(own.get(f"/articles/{article.slug}"))
    assert "Please stay on topic" in page and "Only you can see it" in page


def test_bulk_form_approves_several(held, moderator, db):
    from webapp.services import comments

    article, author, first = held
    second = comments.submit(article, author, "Second held")
    db.session.commit()
    response = moderator.form(
        "/moderation/bulk", {"ids": [str(first.id), str(second.id)], "action": "approve"}
    )
    assert response.status_code == 302
    assert "2 comments approved." in text(moderator.get("/moderation/queue/approved"))


def test_ban_and_unban_from_the_reader_page(held, moderator):
    _, author, _ = held
    page = text(moderator.get(f"/moderation/users/{author.id}"))
    assert "Ban from writing" in page and "1 (0 published, 0 rejected)" in page
    moderator.form(f"/moderation/users/{author.id}/ban", {"reason": "Spam", "until": "2099-05-01"})
    page = text(moderator.get(f"/moderation/users/{author.id}"))
    assert "Banned" in page and "until 1 May 2099" in page
    missing = moderator.form(f"/moderation/users/{author.id}/unban", {})
    assert missing.status_code == 302
    assert "In good standing" in text(moderator.get(f"/moderation/users/{author.id}"))


def test_ban_without_reason_keeps_the_date_typed(held, moderator):
    _, author, _ = held
    response = moderator.form(
        f"/moderation/users/{author.id}/ban", {"reason": "", "until": "2099-05-01"}
    )
    page = text(moderator.get(response.headers["Location"]))
    assert "Please give a reason" in page and 'value="2099-05-01"' in page


def test_log_page_lists_and_filters(held, moderator):
    _, author, comment = held
    moderator.form(f"/moderation/comments/{comment.id}", {"action": "reject", "reason": "No"})
    moderator.form(f"/moderation/users/{author.id}/ban", {"reason": "Enough"})
    page = text(moderator.get("/moderation/log"))
    assert "reject" in page and "Enough" in page
    filtered = text(moderator.get("/moderation/log?action=reject"))
    assert "Enough" not in filtered and f"#{comment.id}" in filtered


def test_settings_page_saves_and_keeps_bad_input(moderator):
    response = moderator.form(
        "/moderation/settings",
        {
            "toxicity_threshold": "2",
            "max_links": "4",
            "new_author_hold_count": "0",
            "recent_rejections_limit": "3",
            "rejection_window_days": "30",
            "report_threshold": "3",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert 'value="2"' in page and "between 0 and 1" in page
    ok = moderator.form(
        "/moderation/settings",
        {
            "toxicity_threshold": "0.7",
            "max_links": "4",
            "new_author_hold_count": "1",
            "recent_rejections_limit": "3",
            "rejection_window_days": "30",
            "report_threshold": "3",
            "hide_reported": "y",
        },
    )
    assert ok.status_code == 302
    page = text(moderator.get("/moderation/settings"))
    assert 'value="0.7"' in page and 'name="hide_reported" value="y" checked' in page


def test_word_list_page(moderator):
    moderator.form("/moderation/terms", {"term": "Shill", "kind": "banned"})
    page = text(moderator.get("/moderation/settings"))
    assert "<td>shill</td><td>banned</td>" in page


def test_featured_tab_on_the_article(held, moderator, client):
    article, _, comment = held
    moderator.form(f"/moderation/comments/{comment.id}", {"action": "approve"})
    moderator.form(f"/moderation/comments/{comment.id}", {"action": "feature"})
    page = text(client.get(f"/articles/{article.slug}?featured=1"))
    assert "My held words" in page and "badge-featured" in page


def test_the_settings_form_reads_its_text_as_the_settings_types():
    from webapp.errors import InvalidInput
    from webapp.forms.moderation import settings_changes, settings_sent

    sent = settings_sent({"max_links": " 5 ", "toxicity_threshold": "0.5", "other": "x"})
    assert sent == {
        "toxicity_threshold": "0.5",
        "max_links": "5",
        "hide_reported": False,
        "verified_commenters_only": False,
    }
    assert settings_changes(sent) == {
        "toxicity_threshold": 0.5,
        "max_links": 5,
        "hide_reported": False,
        "verified_commenters_only": False,
    }
    with pytest.raises(InvalidInput) as error:
        settings_changes(
            {"toxicity_threshold": "3", "max_links": "many", "report_threshold": "5.0"}
        )
    # Every bad field at once: the unreadable ones and those the service refuses.
    assert error.value.fields == {
        "toxicity_threshold": "between 0 and 1",
        "max_links": "must be a number",
        "report_threshold": "must be a number",
    }


def test_settings_page_marks_text_that_is_not_a_number(moderator):
    response = moderator.form(
        "/moderation/settings", {"max_links": "many", "report_threshold": "0"}
    )
    assert response.status_code == 422
    page = text(response)
    assert 'value="many"' in page and "must be a number" in page and "between 1 and 1000" in page
    assert moderator.get("/api/v1/moderation/settings").get_json()["max_links"] == 2
