"""The moderators' lists are flat: each queue (page and API), the audit log and a
reader's page cost the same queries for one item as for fifty, on a small site as on a
bigger one; the navigation's counts are one statement; the log's moderator filter
comes from the accounts' roles, not from the log; every list pages by a signed cursor.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from webapp import caching
from webapp.caching import clock
from webapp.services import comments, moderation

QUEUES = ("pending", "reported", "rejected", "approved")


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def moderator(make_api, make_user):
    client = make_api()
    client.user = make_user(role="moderator", name="Mod One")
    client.login(client.user)
    return client


def _fill(db, make_article, make_user, actor: Any, count: int) -> Any:
    """``count`` comments in each queue, each by an author of their own with a history,
    reported replies with notes, and the log entries of the decisions; returns the last
    author (four comments: published, pending, rejected, approved; three log entries)."""
    held_on = make_article(comments="premoderated")
    open_on = make_article()
    author = None
    for n in range(count):
        author = make_user()
        parent = comments.submit(open_on, author, f"A parent comment {n}")
        reply = comments.submit(open_on, make_user(), f"A reply worth reporting {n}", parent.id)
        comments.flag(reply, make_user(), "spam", f"Looks like spam {n}")
        comments.flag(reply, make_user(), "abuse")
        comments.submit(held_on, author, f"Held for a moderator {n}")
        to_reject = comments.submit(held_on, author, f"To be rejected {n}")
        moderation.decide(to_reject, actor, "reject", "Off topic")
        to_approve = comments.submit(held_on, author, f"To be approved {n}")
        moderation.decide(to_approve, actor, "approve")
        if n % 2 == 0:
            moderation.ban(author, actor, "Spam, again")
    db.session.commit()
    return author


@pytest.fixture
def site(db, make_article, make_user, moderator) -> Any:
    return _fill(db, make_article, make_user, moderator.user, 3)


def _grow(db, make_article, make_user, moderator) -> None:
    _fill(db, make_article, make_user, moderator.user, 6)


@pytest.mark.parametrize("status", QUEUES)
def test_a_queue_costs_the_same_queries_whatever_the_page_and_the_site(
    db, site, moderator, make_article, make_user, count_queries, monkeypatch, status
):
    def api(limit: int) -> int:
        with count_queries() as queries:
            body = moderator.get(f"/api/v1/moderation/queue?status={status}&limit={limit}")
        assert len(body.get_json()["items"]) >= 1
        return len(queries)

    def page(size: int) -> int:
        monkeypatch.setattr("webapp.moderation.routes.QUEUE_PAGE", size)
        with count_queries() as queries:
            text(moderator.get(f"/moderation/queue/{status}"))
        return len(queries)

    api_one, page_one = api(1), page(1)
    assert api(50) == api_one and page(50) == page_one
    _grow(db, make_article, make_user, moderator)
    assert api(1) == api_one and api(50) == api_one
    assert page(1) == page_one and page(50) == page_one


def test_the_queue_counts_are_one_statement_and_right(db, site, count_queries):
    with count_queries() as queries:
        counts = moderation.queue_counts()
    assert len([q for q in queries if q.startswith("SELECT")]) == 1, queries
    assert counts == {"pending": 3, "reported": 3, "rejected": 3, "approved": 3}


@pytest.mark.parametrize("status", QUEUES)
def test_each_queue_pages_by_its_cursor_without_repeating(site, moderator, status):
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        url = f"/api/v1/moderation/queue?status={status}&limit=2"
        body = moderator.get(url + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    everything = moderator.get(f"/api/v1/moderation/queue?status={status}&limit=50").get_json()
    assert seen == [item["id"] for item in everything["items"]] and len(seen) == 3


def test_the_log_and_a_readers_page_cost_the_same_queries_whatever_the_page_and_the_site(
    db, site, moderator, make_article, make_user, count_queries, monkeypatch
):
    author_id = site.id

    def pages(size: int) -> tuple[int, int, int]:
        monkeypatch.setattr("webapp.moderation.routes.LOG_PAGE", size)
        monkeypatch.setattr("webapp.moderation.routes.USER_PAGE", size)
        counted = []
        for url in ("/moderation/log", f"/moderation/users/{author_id}", "/api/v1/moderation/log"):
            with count_queries() as queries:
                assert moderator.get(url + f"?limit={size}").status_code == 200
            counted.append(len(queries))
        return counted[0], counted[1], counted[2]

    one = pages(1)
    assert pages(50) == one
    _grow(db, make_article, make_user, moderator)
    assert pages(1) == one and pages(50) == one


def test_the_log_lists_moderators_by_role_not_from_the_log(db, site, make_user, moderator):
    make_user(role="moderator", name="Quiet Moderator")
    make_user(role="admin", name="Admin Person")
    make_user(role="editor", name="Editor Person")
    page = text(moderator.get("/moderation/log"))
    choices = re.findall(r'<option value="\d+" >(.*?)</option>', page.split('id="f-mod"')[1])
    assert choices == ["Admin Person", "Mod One", "Quiet Moderator"]
    assert [u.display_name for u in moderation.moderators()] == choices


_OLDER = re.compile(r'<a class="button button-secondary" href="([^"]+)">Older (\w+)</a>')


def test_the_log_pages_by_a_signed_cursor(site, moderator, monkeypatch):
    monkeypatch.setattr("webapp.moderation.routes.LOG_PAGE", 4)
    everything = moderator.get("/api/v1/moderation/log?limit=100").get_json()["items"]
    seen: list[str] = []
    url = "/moderation/log"
    for _ in range(10):
        page = text(moderator.get(url))
        seen += re.findall(r"<td>(reject|approve|ban)", page)
        found = _OLDER.search(page)
        if found is None:
            break
        url = found.group(1).replace("&amp;", "&")
    assert seen == [entry["action"] for entry in everything]
    assert moderator.get("/moderation/log?after=12").status_code == 400
    # The API's cursors and the page's are one list's.
    api_cursor = moderator.get("/api/v1/moderation/log?limit=1").get_json()["next_cursor"]
    assert moderator.get(f"/moderation/log?after={api_cursor}").status_code == 200


def test_a_readers_page_pages_their_comments_and_leads_to_their_log(site, moderator, monkeypatch):
    monkeypatch.setattr("webapp.moderation.routes.USER_PAGE", 2)
    first = text(moderator.get(f"/moderation/users/{site.id}"))
    links = dict((kind, url.replace("&amp;", "&")) for url, kind in _OLDER.findall(first))
    assert set(links) == {"comments", "entries"}
    second = text(moderator.get(links["comments"]))
    bodies = [re.findall(r"<td>([A-Z][^<]*\d)</td>", page) for page in (first, second)]
    assert bodies == [
        ["To be approved 2", "To be rejected 2"],
        ["Held for a moderator 2", "A parent comment 2"],
    ]
    assert "Older comments" not in second
    log = text(moderator.get(links["entries"]))
    assert f'href="/moderation/users/{site.id}"' in log
    assert moderator.get(f"/moderation/users/{site.id}?after=forged").status_code == 400


def test_the_navigation_counts_are_kept_a_moment_and_a_decision_shows_at_once(
    app, db, make_article, make_user, moderator, monkeypatch
):
    """With QUEUE_COUNTS_CACHE_SECONDS on, each worker keeps the navigation's counts a
    moment; a decision made from a moderation page shows at once in its worker, and
    the queues and the API's counts are always fresh."""
    caching.clear_all()
    monkeypatch.setitem(app.config, "QUEUE_COUNTS_CACHE_SECONDS", 60)
    article = make_article(comments="premoderated")
    author = make_user()

    def held(body: str) -> Any:
        comment = comments.submit(article, author, body)
        db.session.commit()
        return comment

    def pending_in_navigation() -> str:
        page = text(moderator.get("/moderation/queue/approved"))
        found = re.search(r'title="pending">(\d+)</span>', page)
        assert found is not None
        return found.group(1)

    first = held("Held first")
    try:
        assert pending_in_navigation() == "1"
        held("Held second")
        held("Held third")
        assert pending_in_navigation() == "1"  # kept by this worker
        assert "Held third" in text(moderator.get("/moderation/queue/pending"))
        counts = moderator.get("/api/v1/moderation/queue").get_json()["counts"]
        assert counts["pending"] == 3
        moderator.form(f"/moderation/comments/{first.id}", {"action": "approve"})
        assert pending_in_navigation() == "2"  # the decision shows at once
        held("Held fourth")
        assert pending_in_navigation() == "2"
        a_minute_later = clock.now() + 61
        monkeypatch.setattr(clock, "now", lambda: a_minute_later)
        assert pending_in_navigation() == "3"  # another change, once the copy expires
    finally:
        caching.clear_all()
