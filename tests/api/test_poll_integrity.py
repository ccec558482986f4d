"""The poll integrity API (issue 16): the report editors and moderators read, and the
decisions editors take on a group of votes, as API-CONTRACT.md "Poll integrity" says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integrity_groups import BRIGADE_VOTES, Brigaded, brigaded_poll

GROUP_FIELDS = {"id", "status", "reason", "signals", "votes", "by_option", "first_at", "last_at"}


@pytest.fixture
def brigaded(make_article: Any, db: Any) -> Brigaded:
    return brigaded_poll(make_article)


@pytest.fixture
def as_role(make_api: Any, make_user: Any) -> Any:
    def build(role: str) -> Any:
        client = make_api()
        if role != "anonymous":
            client.user = make_user(role=role)
            client.login(client.user)
        return client

    return build


def _url(brigaded: Brigaded, group_id: Any = None) -> str:
    base = f"/api/v1/articles/{brigaded.article.slug}/poll/integrity"
    return base if group_id is None else f"{base}/groups/{group_id}"


def _votes(results: dict[str, Any]) -> dict[str, int]:
    return {option["label"]: option["votes"] for option in results["options"]}


def test_the_report_counts_every_vote_and_lists_the_groups_largest_first(brigaded, as_role):
    body = as_role("editor").get(_url(brigaded)).get_json()
    assert (body["total"], body["counted"], body["set_aside"]) == (170, 170, 0)
    assert [group["id"] for group in body["groups"]] == [
        str(brigaded.group.id),
        str(brigaded.other.id),
    ]
    group = body["groups"][0]
    assert set(group) >= GROUP_FIELDS
    assert group["status"] == "suspect"
    assert group["votes"] == BRIGADE_VOTES
    no = next(o["id"] for o in body["raw"]["options"] if o["label"] == "No")
    assert group["by_option"] == {str(no): BRIGADE_VOTES}
    assert group["reason"].startswith("60 votes from one address in 9 minutes")
    assert group["first_at"].endswith(("Z", "+00:00"))
    assert (
        _votes(body["clean"])
        == _votes(body["raw"])
        == {
            "Yes": 66,
            "No": 93,
            "Too early to tell": 11,
        }
    )


def test_setting_a_group_aside_takes_its_votes_out_of_every_public_answer(brigaded, as_role, api):
    results_url = f"/api/v1/articles/{brigaded.article.slug}/poll/results"
    assert api.get(results_url).get_json()["total"] == 170  # now in the results cache
    editor = as_role("editor")

    answer = editor.post(
        _url(brigaded, brigaded.group.id), {"action": "set_aside", "reason": "A script."}
    )

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "set_aside"
    assert answer.get_json()["id"] == str(brigaded.group.id)
    public = api.get(results_url).get_json()
    assert public["total"] == 110
    assert _votes(public) == {"Yes": 66, "No": 33, "Too early to tell": 11}
    report = editor.get(_url(brigaded)).get_json()
    assert (report["total"], report["counted"], report["set_aside"]) == (170, 110, 60)
    assert _votes(report["clean"]) == {"Yes": 66, "No": 33, "Too early to tell": 11}
    assert _votes(report["raw"]) == {"Yes": 66, "No": 93, "Too early to tell": 11}

    restored = editor.post(_url(brigaded, brigaded.group.id), {"action": "restore"})
    assert restored.status_code == 200 and restored.get_json()["status"] != "set_aside"
    assert api.get(results_url).get_json()["total"] == 170


def test_each_decision_is_in_the_audit_log_with_its_poll_and_reason(brigaded, as_role):
    editor = as_role("editor")
    editor.post(_url(brigaded, brigaded.group.id), {"action": "set_aside", "reason": "A script."})
    editor.post(_url(brigaded, brigaded.group.id), {"action": "restore", "reason": "Mistake."})
    editor.post(_url(brigaded, brigaded.other.id), {"action": "clear"})
    log = as_role("admin").get("/api/v1/moderation/log").get_json()["items"]
    entries = [(e["action"], e["reason"], e["details"]["group_id"]) for e in log[:3]]
    assert entries == [
        ("clear_votes", None, brigaded.other.id),
        ("restore_votes", "Mistake.", brigaded.group.id),
        ("set_aside_votes", "A script.", brigaded.group.id),
    ]
    assert all(e["moderator"]["id"] == editor.user.id for e in log[:3])
    assert log[0]["details"]["article_id"] == brigaded.article.id


@pytest.mark.parametrize(
    "role, read, decide",
    [
        ("anonymous", 401, 401),
        ("reader", 403, 403),
        ("moderator", 200, 403),
        ("editor", 200, 200),
        ("admin", 200, 200),
    ],
)
def test_editors_and_admins_decide_moderators_only_read(brigaded, as_role, role, read, decide):
    client = as_role(role)
    assert client.get(_url(brigaded)).status_code == read
    answer = client.post(_url(brigaded, brigaded.other.id), {"action": "clear"})
    assert answer.status_code == decide
    if decide != 200:
        assert answer.get_json()["error"]["code"] in ("unauthorized", "forbidden")


def test_an_unknown_group_or_one_of_another_poll_is_404(brigaded, as_role, make_article):
    editor = as_role("editor")
    assert editor.post(_url(brigaded, 999_999), {"action": "clear"}).status_code == 404
    elsewhere = make_article(poll=True)
    url = f"/api/v1/articles/{elsewhere.slug}/poll/integrity/groups/{brigaded.group.id}"
    assert editor.post(url, {"action": "set_aside"}).status_code == 404
    assert editor.get("/api/v1/articles/no-such-article/poll/integrity").status_code == 404
    no_poll = make_article()
    assert editor.get(f"/api/v1/articles/{no_poll.slug}/poll/integrity").status_code == 404
    # Nothing moved.
    assert editor.get(_url(brigaded)).get_json()["set_aside"] == 0


def test_a_bad_body_is_refused_as_every_body_is(brigaded, as_role):
    editor = as_role("editor")
    url = _url(brigaded, brigaded.group.id)
    bad_action = editor.post(url, {"action": "delete"})
    assert bad_action.status_code == 422
    assert bad_action.get_json()["error"]["fields"] == {
        "action": "one of set_aside, restore, clear"
    }
    assert editor.post(url, {}).status_code == 422
    assert editor.post(url, {"action": "clear", "reason": "x" * 5000}).status_code == 422
    assert editor.post(url, {"action": 1}).status_code == 400
    assert editor.post(url, [1]).status_code == 400
    assert editor.get(_url(brigaded)).get_json()["groups"][0]["status"] == "suspect"


def test_a_decision_without_the_csrf_token_is_refused(brigaded, as_role):
    editor = as_role("editor")
    answer = editor.post(_url(brigaded, brigaded.group.id), {"action": "set_aside"}, csrf=False)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "csrf_failed"
    assert editor.get(_url(brigaded)).get_json()["set_aside"] == 0


def test_editors_choose_signed_in_readers_only_under_attack_in_the_article_body(as_role, db):
    from webapp.models import Article

    editor = as_role("editor")
    poll = {"question": "Will it hold?", "options": ["Yes", "No"], "allow_anonymous": True}
    made = editor.post(
        "/api/v1/articles",
        {
            "title": "Ceasefire",
            "body": "Text.",
            "status": "published",
            "poll": {**poll, "signed_in_only_under_attack": True},
        },
    )
    assert made.status_code == 201, made.get_json()
    slug = made.get_json()["slug"]
    article = db.session.scalar(db.select(Article).where(Article.slug == slug))
    assert article.poll.signed_in_only_under_attack is True
    changed = editor.patch(f"/api/v1/articles/{slug}", {"poll": poll})
    assert changed.status_code == 200
    db.session.expire_all()
    assert article.poll.signed_in_only_under_attack is False  # absent: false
    bad = editor.patch(
        f"/api/v1/articles/{slug}", {"poll": {**poll, "signed_in_only_under_attack": "yes"}}
    )
    assert bad.status_code == 400
