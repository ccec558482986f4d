"""The moderation queue page as a moderator works through it: filters in the URL (so
they work without script), decisions answered in place for the queue's script (JSON,
with the counts and the item as it now stands) and post/redirect/get without it."""

from __future__ import annotations

import re

import pytest

from webapp.services import comments

JSON = {"Accept": "application/json"}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def moderator(make_api, make_user):
    client = make_api()
    client.login(make_user(role="moderator"))
    return client


@pytest.fixture
def queue(make_article, make_user, db):
    """Two premoderated articles with held comments by two authors."""
    bridge = make_article(comments="premoderated", title="Harbour bridge")
    ferry = make_article(comments="premoderated", title="Ferry fares")
    grace = make_user(name="Grace Hopper")
    alan = make_user(name="Alan Turing")
    held = {
        "bridge": comments.submit(bridge, grace, "The bridge is late again"),
        "ferry": comments.submit(ferry, alan, "Fares doubled since spring"),
        "tolls": comments.submit(bridge, alan, "Tolls will pay for it"),
    }
    db.session.commit()
    return {"bridge": bridge, "ferry": ferry, "grace": grace, "alan": alan, **held}


def shown(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="item-(\d+)"', page)]


def test_the_queue_filters_by_article_reason_and_search_in_the_url(queue, moderator):
    by_article = text(moderator.get(f"/moderation/queue/pending?article={queue['bridge'].id}"))
    assert shown(by_article) == [queue["bridge"].id, queue["tolls"].id]
    assert f'<option value="{queue["bridge"].id}" selected>' in by_article
    assert "Clear filters" in by_article

    by_author = text(moderator.get("/moderation/queue/pending?q=grace+hopper"))
    assert shown(by_author) == [queue["bridge"].id]
    assert 'value="grace hopper"' in by_author
    by_text = text(moderator.get("/moderation/queue/pending?q=DOUBLED"))
    assert shown(by_text) == [queue["ferry"].id]

    by_reason = text(moderator.get("/moderation/queue/pending?reason=premoderated"))
    assert len(shown(by_reason)) == 3
    assert shown(text(moderator.get("/moderation/queue/pending?reason=spam"))) == []


@pytest.mark.parametrize(
    "query",
    [
        "article=abc",
        "article=99999999999999999999",
        "reason=%C3%A9t%C3%A9",
        "q=" + "x" * 5000,
        "q=%25_",
    ],
)
def test_a_filter_that_means_nothing_is_never_an_error(queue, moderator, query):
    response = moderator.get(f"/moderation/queue/pending?{query}")
    assert response.status_code == 200


def test_an_empty_filtered_queue_says_the_filters_found_nothing(queue, moderator):
    page = text(moderator.get("/moderation/queue/pending?q=zeppelin"))
    assert "matches these filters" in page and "Well done" not in page


def test_the_next_page_keeps_the_filters(queue, moderator, monkeypatch):
    from webapp.moderation import routes

    monkeypatch.setattr(routes, "QUEUE_PAGE", 1)
    page = text(moderator.get(f"/moderation/queue/pending?article={queue['bridge'].id}"))
    assert shown(page) == [queue["bridge"].id]
    next_url = re.search(r'href="([^"]+)">Next page', page).group(1).replace("&amp;", "&")
    assert f"article={queue['bridge'].id}" in next_url
    assert shown(text(moderator.get(next_url))) == [queue["tolls"].id]


def test_without_script_a_decision_goes_back_to_the_filtered_page(queue, moderator):
    back = f"/moderation/queue/pending?article={queue['bridge'].id}"
    response = moderator.form(
        f"/moderation/comments/{queue['bridge'].id}",
        {"action": "approve", "next": back, "queue": "pending"},
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    page = text(moderator.get(back))
    assert "Comment approved." in page and shown(page) == [queue["tolls"].id]


def test_with_script_a_decision_answers_with_the_counts_and_what_left_the_page(queue, moderator):
    response = moderator.form(
        f"/moderation/comments/{queue['bridge'].id}",
        {"action": "approve", "queue": "pending", "next": "/moderation/queue/pending"},
        headers=JSON,
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["message"] == "Comment approved."
    assert answer["counts"]["pending"] == 2 and answer["counts"]["approved"] == 1
    assert answer["items"] == [{"id": queue["bridge"].id, "in_queue": False, "html": None}]


def test_featuring_in_place_gives_the_item_as_it_now_stands(queue, moderator):
    comment_id = queue["bridge"].id
    moderator.form(f"/moderation/comments/{comment_id}", {"action": "approve"})
    answer = moderator.form(
        f"/moderation/comments/{comment_id}",
        {"action": "feature", "queue": "approved", "next": "/moderation/queue/approved"},
        headers=JSON,
    ).get_json()
    [item] = answer["items"]
    assert item["in_queue"] is True
    assert f'id="item-{comment_id}"' in item["html"] and ">Unfeature</button>" in item["html"]
    assert 'value="/moderation/queue/approved"' in item["html"]


def test_a_refused_decision_in_place_is_json_with_the_reason(queue, moderator):
    response = moderator.form(
        f"/moderation/comments/{queue['bridge'].id}",
        {"action": "feature", "queue": "pending"},
        headers=JSON,
    )
    assert response.status_code == 409
    assert "approve it first" in response.get_json()["error"]["message"]


def test_bulk_in_place_decides_all_and_counts(queue, moderator):
    ids = [str(queue["bridge"].id), str(queue["ferry"].id)]
    answer = moderator.form(
        "/moderation/bulk", {"ids": ids, "action": "reject", "queue": "pending"}, headers=JSON
    ).get_json()
    assert answer["message"] == "2 comments rejected."
    assert {item["id"] for item in answer["items"]} == {int(i) for i in ids}
    assert not any(item["in_queue"] for item in answer["items"])
    assert answer["counts"]["pending"] == 1 and answer["counts"]["rejected"] == 2


def test_bulk_with_nothing_chosen_is_refused_in_place(queue, moderator):
    response = moderator.form("/moderation/bulk", {"action": "approve"}, headers=JSON)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "Choose at least one comment."


def test_ban_from_the_queue_in_place_and_without_script(queue, moderator, make_api, db):
    alan, grace = queue["alan"], queue["grace"]
    answer = moderator.form(
        f"/moderation/users/{alan.id}/ban", {"reason": "Spam", "queue": "pending"}, headers=JSON
    ).get_json()
    assert answer["author_id"] == alan.id and "banned from writing" in answer["message"]
    refused = moderator.form(f"/moderation/users/{grace.id}/ban", {"reason": ""}, headers=JSON)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"] == "Please give a reason for the ban."

    back = "/moderation/queue/pending?q=grace"
    response = moderator.form(f"/moderation/users/{grace.id}/ban", {"reason": "Rude", "next": back})
    assert response.headers["Location"] == back
    page = text(moderator.get(back))
    assert "Grace Hopper is banned from writing." in page and "Author banned" in page


def test_decisions_in_place_keep_the_role_and_token_checks(queue, make_api, make_user):
    reader = make_api()
    reader.login(make_user())
    refused = reader.form(
        f"/moderation/comments/{queue['bridge'].id}", {"action": "approve"}, headers=JSON
    )
    assert refused.status_code == 403

    moderator = make_api()
    moderator.login(make_user(role="moderator"))
    without_token = moderator.client.post(
        f"/moderation/comments/{queue['bridge'].id}", data={"action": "approve"}, headers=JSON
    )
    assert without_token.status_code in (400, 403)
    assert queue["bridge"].id in shown(text(moderator.get("/moderation/queue/pending")))
    with_header = moderator.client.post(
        f"/moderation/comments/{queue['bridge'].id}",
        data={"action": "approve", "queue": "pending"},
        headers={**JSON, "X-CSRFToken": moderator.token},
    )
    assert with_header.status_code == 200


def test_approve_is_not_styled_as_the_destructive_action(queue, moderator):
    page = text(moderator.get("/moderation/queue/pending"))
    approve = re.search(r'<button[^>]*value="approve"[^>]*>', page).group(0)
    reject = re.search(r'<button[^>]*class="([^"]*)"[^>]*>Reject</button>', page).group(1)
    assert "button-approve" in approve and "danger" not in approve
    assert "button-danger" in reject


def test_select_all_works_without_script(queue, moderator):
    page = text(moderator.get("/moderation/queue/pending"))
    link = re.search(r'href="([^"]+)">Select all on this page', page).group(1)
    selected = text(moderator.get(link.replace("&amp;", "&")))
    assert selected.count("data-select checked") == 3
    assert "Clear the selection" in selected
