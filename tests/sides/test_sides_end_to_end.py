"""End to end through the triggers: readers vote in the poll and react to comments over
the API, and the sides, the common ground and the divisive watch list follow."""

from __future__ import annotations

import pytest


def _reader(make_api, make_user, article, option_index, name):
    api = make_api()
    api.login(make_user(name=name))
    option = article.poll.options[option_index].id
    assert (
        api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": option}).status_code
        == 201
    )
    return api


def _react(api, comment_id, value):
    assert api.post(f"/api/v1/comments/{comment_id}/votes", {"value": value}).status_code == 200


def test_reactions_by_answer_make_the_sides_and_the_watch_list(make_api, make_user, make_article):
    article = make_article(poll={"results_visibility": "always"})
    slug = article.slug
    yes_author = _reader(make_api, make_user, article, 0, "Yes Author")
    no_author = _reader(make_api, make_user, article, 1, "No Author")
    posted = f"/api/v1/articles/{slug}/comments"
    split = yes_author.post(posted, {"body": "Only my side will like this."}).get_json()["id"]
    bridge = no_author.post(posted, {"body": "Both sides can live with this."}).get_json()["id"]
    yes_readers = [_reader(make_api, make_user, article, 0, f"Yes Reader {c}") for c in "ab"]
    no_readers = [_reader(make_api, make_user, article, 1, f"No Reader {c}") for c in "ab"]
    for api in yes_readers:
        _react(api, split, 1)
        _react(api, bridge, 1)
    for api in no_readers:
        _react(api, split, -1)
        _react(api, bridge, 1)
    # A reader without a vote counts for no answer.
    outsider = make_api()
    outsider.login(make_user(name="Outsider"))
    _react(outsider, split, 1)

    body = make_api().get(f"/api/v1/articles/{slug}/sides").get_json()
    yes, no, early = (option["comments"] for option in body["options"])
    assert [c["id"] for c in yes] == [split] and yes[0]["author_vote"] == "Yes"
    assert [c["id"] for c in no] == [bridge] and no[0]["author_vote"] == "No"
    assert early == []
    # Both answers' readers approve the bridge (3/4 each); the split is nobody's common ground.
    assert [c["id"] for c in body["common_ground"]] == [bridge]
    assert body["common_ground"][0]["common_ground"] == pytest.approx(0.75)
    assert yes[0]["common_ground"] == 0.0

    moderator = make_api()
    moderator.login(make_user(role="moderator", name="Watching Moderator"))
    page = moderator.get("/moderation/divisive").get_data(as_text=True)
    watch = page[page.index('id="divisive-title"') : page.index('id="candidates-title"')]
    assert "Only my side will like this." in watch
    assert "Both sides can live with this." not in watch
    assert "Both sides can live with this." in page[page.index('id="candidates-title"') :]

    # The No readers change their minds about the split comment: it is no longer divisive.
    for api in no_readers:
        _react(api, split, 1)
    page = moderator.get("/moderation/divisive").get_data(as_text=True)
    watch = page[page.index('id="divisive-title"') : page.index('id="candidates-title"')]
    assert "Only my side will like this." not in watch
    body = make_api().get(f"/api/v1/articles/{slug}/sides").get_json()
    assert {c["id"] for c in body["common_ground"]} == {split, bridge}
