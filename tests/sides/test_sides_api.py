"""GET /api/v1/articles/{slug}/sides: each answer's comments as its own readers value
them, the common ground, and who may see them (exactly who may see the results)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sides.sides_data import build_thread, set_reactions, vote
from webapp.models import utcnow
from webapp.services import comments


def _sides(api, article, status=200):
    response = api.get(f"/api/v1/articles/{article.slug}/sides")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _names(items):
    return [item["author"]["display_name"].removeprefix("Reader ") for item in items]


@pytest.fixture
def thread(make_article, make_user):
    return build_thread(make_article, make_user)


def test_each_answer_shows_its_own_readers_most_valued_comments_best_first(api, thread):
    t, said = thread, thread.said
    set_reactions(
        t.article,
        [
            # Yes readers on Yes comments: yes2 best, then yes1 (ties by id), yes3 after.
            (said["yes1"], t.yes, 3, 1, True),  # 4/6
            (said["yes2"], t.yes, 5, 0, True),  # 6/7
            (said["yes3"], t.yes, 1, 0, True),  # 2/3: ties yes1, later id
            (said["yes4"], t.yes, 0, 4, True),  # disliked by its own side: left out
            # How No readers value a Yes comment says nothing of what Yes says.
            (said["yes4"], t.no, 9, 0, False),
            (said["no1"], t.no, 2, 0, True),
            (said["no2"], t.no, 1, 1, True),  # 1/2: no better than no reaction
        ],
    )
    body = _sides(api, t.article)
    assert [(o["id"], o["label"]) for o in body["options"]] == [
        (t.yes, "Yes"),
        (t.no, "No"),
        (t.article.poll.options[2].id, "Too early to tell"),
    ]
    yes, no, early = (o["comments"] for o in body["options"])
    assert _names(yes) == ["yes2", "yes1", "yes3"]
    assert _names(no) == ["no1"]
    assert early == []
    # Each comment comes with its author's answer, as in the comments list, no replies.
    assert {c["author_vote"] for c in yes} == {"Yes"} and no[0]["author_vote"] == "No"
    first = yes[0]
    assert "replies" not in first
    assert first["html"].strip() == "<p>Comment yes2: an argument.</p>"
    assert first["common_ground"] == 0.0
    assert {"id", "author", "score", "featured", "my_reaction", "can_edit"} <= set(first)


def test_at_most_three_per_answer(api, thread, make_user):
    t = thread
    set_reactions(t.article, [(t.said[f"yes{n}"], t.yes, n, 0, True) for n in range(1, 5)])
    assert _names(_sides(api, t.article)["options"][0]["comments"]) == ["yes4", "yes3", "yes2"]


def test_common_ground_lists_bridging_comments_highest_first(api, thread, make_user):
    t, said = thread, thread.said
    set_reactions(
        t.article,
        [(said["no3"], t.yes, 4, 0, False), (said["no3"], t.no, 4, 0, True)],
        common_ground={said["no3"]: 0.7, said["yes1"]: 0.4, said["silent"]: 0.55},
    )
    common = _sides(api, t.article)["common_ground"]
    assert _names(common) == ["no3", "silent", "yes1"]
    assert [c["common_ground"] for c in common] == [0.7, 0.55, 0.4]
    # The author's answer, or null for a commenter who did not vote.
    assert [c["author_vote"] for c in common] == ["No", None, "Yes"]


def test_deleted_and_unpublished_comments_are_left_out(api, thread, db):
    t, said = thread, thread.said
    set_reactions(
        t.article,
        [(said["yes1"], t.yes, 5, 0, True), (said["yes2"], t.yes, 4, 0, True)],
        common_ground={said["yes1"]: 0.9, said["yes2"]: 0.8},
    )
    said["yes1"].deleted_at = utcnow()
    db.session.commit()
    body = _sides(api, t.article)
    assert _names(body["options"][0]["comments"]) == ["yes2"]
    assert _names(body["common_ground"]) == ["yes2"]
    said["yes2"].status = "rejected"
    db.session.commit()
    body = _sides(api, t.article)
    assert body["options"][0]["comments"] == [] and body["common_ground"] == []


def test_replies_count_for_their_side_but_common_ground_is_top_level(api, thread, make_user):
    t = thread
    reply = comments.submit(t.article, t.authors["no4"], "A reply: fair.", t.said["yes1"].id)
    set_reactions(t.article, [(reply, t.no, 3, 0, True)], common_ground={reply: 0.9})
    body = _sides(api, t.article)
    assert _names(body["options"][1]["comments"]) == ["no4"]
    assert body["options"][1]["comments"][0]["parent_id"] == t.said["yes1"].id
    # As ?sort=common_ground: top-level comments only.
    assert body["common_ground"] == []


def test_unknown_unpublished_and_pollless_articles_are_404(api, make_article):
    assert api.get("/api/v1/articles/no-such-article/sides").status_code == 404
    draft = make_article(status="draft", poll=True)
    assert api.get(f"/api/v1/articles/{draft.slug}/sides").status_code == 404
    plain = make_article()
    response = api.get(f"/api/v1/articles/{plain.slug}/sides")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def _hidden(api, article):
    response = api.get(f"/api/v1/articles/{article.slug}/sides")
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"]["code"] == "results_hidden"
    # Nothing of the comments or the answers leaks in the refusal.
    assert "Comment" not in response.get_data(as_text=True)
    assert set(body) == {"error"}


def test_after_vote_poll_hides_the_sides_until_the_reader_votes(make_article, make_user, make_api):
    t = build_thread(make_article, make_user, results_visibility="after_vote")
    set_reactions(t.article, [(t.said["yes1"], t.yes, 2, 0, True)])
    reader = make_user()
    api = make_api()
    api.login(reader)
    _hidden(api, t.article)
    _hidden(make_api(), t.article)  # signed out
    vote(t.article, reader, 1)
    assert _names(_sides(api, t.article)["options"][0]["comments"]) == ["yes1"]


def test_after_close_poll_hides_the_sides_while_open_even_after_voting(
    make_article, make_user, make_api, db
):
    t = build_thread(make_article, make_user, results_visibility="after_close")
    set_reactions(t.article, [(t.said["no1"], t.no, 2, 0, True)])
    reader = make_user()
    api = make_api()
    api.login(reader)
    vote(t.article, reader, 0)
    _hidden(api, t.article)
    _hidden(make_api(), t.article)
    t.article.poll.closed_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for who in (api, make_api()):
        assert _names(_sides(who, t.article)["options"][1]["comments"]) == ["no1"]


@pytest.mark.parametrize("role", ["moderator", "editor"])
def test_staff_see_the_sides_of_an_open_after_close_poll(make_article, make_user, make_api, role):
    t = build_thread(make_article, make_user, results_visibility="after_close")
    api = make_api()
    api.login(make_user(role=role))
    assert len(_sides(api, t.article)["options"]) == 3


def test_a_signed_in_reader_sees_their_own_reaction(api, thread, make_user):
    t = thread
    set_reactions(t.article, [(t.said["yes1"], t.yes, 2, 0, True)])
    reader = make_user()
    comments.react(t.said["yes1"], reader, 1)
    from webapp.extensions import db

    db.session.commit()
    set_reactions(t.article, [(t.said["yes1"], t.yes, 2, 0, True)])
    api.login(reader)
    assert _sides(api, t.article)["options"][0]["comments"][0]["my_reaction"] == 1


def test_the_sides_cost_a_fixed_number_of_queries(api, thread, count_queries, make_user):
    t, said = thread, thread.said
    set_reactions(t.article, [(said["yes1"], t.yes, 2, 0, True)], {said["no1"]: 0.5})
    api.get(f"/api/v1/articles/{t.article.slug}/sides")  # warm
    with count_queries() as few:
        api.get(f"/api/v1/articles/{t.article.slug}/sides")
    set_reactions(
        t.article,
        [
            (said[f"{s}{n}"], t.yes if s == "yes" else t.no, n, 0, True)
            for s in ("yes", "no")
            for n in range(1, 5)
        ],
        {said[f"no{n}"]: n / 10 for n in range(1, 5)},
    )
    with count_queries() as many:
        api.get(f"/api/v1/articles/{t.article.slug}/sides")
    assert len(many) == len(few)
