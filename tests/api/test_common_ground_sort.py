"""``?sort=common_ground`` (issue 20): top-level comments by common ground, then score,
then oldest first, paged by cursors that carry all three; forged cursors are refused;
the order follows reactions and votes at once, caches on or off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.insight_data import D1, add_comment, vote
from webapp.models import CommentReaction
from webapp.services.comments import common_ground as cg


@pytest.fixture
def crowd(db, make_user, make_article) -> Any:
    """A poll's article with Yes and No readers, and comments of known common ground:
    ``bridge`` (approved by both), ``also`` (both, a little less), ``loud`` (Yes up, No
    down: 0 but the highest score), and ``quiet`` ones with no reactions."""

    class Crowd:
        pass

    c = Crowd()
    c.article = make_article(poll=True)
    c.options = c.article.poll.options
    author = make_user()
    c.yes = [make_user() for _ in range(10)]
    c.no = [make_user() for _ in range(5)]
    for reader in c.yes:
        vote(c.article.poll, reader, c.options[0], D1)
    for reader in c.no:
        vote(c.article.poll, reader, c.options[1], D1)
    made = [add_comment(db, c.article, author, 0.0, "neutral", D1) for _ in range(7)]
    c.quiet1, c.loud, c.also, c.quiet2, c.bridge, c.quiet3, c.quiet4 = made

    def react(comment: Any, readers: list[Any], value: int) -> None:
        for reader in readers:
            db.session.add(CommentReaction(comment_id=comment.id, user_id=reader.id, value=value))
            comment.score += value

    react(c.bridge, c.yes[:3] + c.no[:3], 1)
    react(c.also, c.yes[:2] + c.no[:2], 1)
    react(c.loud, c.yes, 1)  # the highest score, 10 - 2 ...
    react(c.loud, c.no[:2], -1)
    db.session.commit()
    c.react = react
    return c


def _ids(page: dict[str, Any]) -> list[int]:
    return [item["id"] for item in page["items"]]


def test_common_ground_first_then_score_then_oldest(api, crowd):
    page = api.get(f"/api/v1/articles/{crowd.article.slug}/comments?sort=common_ground").json
    expected = [crowd.bridge, crowd.also, crowd.loud, crowd.quiet1, crowd.quiet2]
    expected += [crowd.quiet3, crowd.quiet4]
    assert _ids(page) == [c.id for c in expected]
    scores = {item["id"]: item["common_ground"] for item in page["items"]}
    assert scores[crowd.bridge.id] == pytest.approx(cg.approval(3, 0))
    assert scores[crowd.also.id] == pytest.approx(cg.approval(2, 0))
    assert scores[crowd.loud.id] == 0.0  # the loudest side's favourite bridges nothing
    # "top" puts the loud one first: common ground is another order.
    top = api.get(f"/api/v1/articles/{crowd.article.slug}/comments?sort=top").json
    assert _ids(top)[0] == crowd.loud.id


def test_pages_follow_one_another_by_cursor(api, crowd):
    path = f"/api/v1/articles/{crowd.article.slug}/comments?sort=common_ground&limit=2"
    seen: list[int] = []
    page = api.get(path).json
    while True:
        seen.extend(_ids(page))
        if page["next_cursor"] is None:
            break
        page = api.get(f"{path}&cursor={page['next_cursor']}").json
    whole = api.get(f"/api/v1/articles/{crowd.article.slug}/comments?sort=common_ground").json
    assert seen == _ids(whole)
    assert len(seen) == 7


def test_forged_and_other_sorts_cursors_are_refused(api, crowd):
    base = f"/api/v1/articles/{crowd.article.slug}/comments"
    assert api.get(f"{base}?sort=common_ground&cursor=forged").status_code == 400
    top_cursor = api.get(f"{base}?sort=top&limit=2").json["next_cursor"]
    response = api.get(f"{base}?sort=common_ground&cursor={top_cursor}")
    assert response.status_code == 400
    assert response.json["error"]["code"]
    cg_cursor = api.get(f"{base}?sort=common_ground&limit=2").json["next_cursor"]
    assert api.get(f"{base}?sort=top&cursor={cg_cursor}").status_code == 400
    assert api.get(f"{base}?sort=sideways").status_code in (400, 422)


def test_the_order_follows_a_reaction_and_a_vote_with_caches_on(make_app, make_user, make_article):
    app = make_app(THREAD_CACHE_SECONDS=60)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll=True)
        options = article.poll.options
        author = make_user()
        first = add_comment(db, article, author, 0.0, "neutral", D1)
        second = add_comment(db, article, author, 0.0, "neutral", D1)
        yes = [make_user() for _ in range(2)]
        no = [make_user() for _ in range(2)]
        for reader in yes:
            vote(article.poll, reader, options[0], D1)
        for reader in no:
            vote(article.poll, reader, options[1], D1)
        db.session.commit()
        anonymous = Api(app.test_client())
        path = f"/api/v1/articles/{article.slug}/comments?sort=common_ground"
        assert _ids(anonymous.get(path).json) == [first.id, second.id]
        # Readers of both answers upvote the second, through the API: it moves up.
        voters = [(reader, Api(app.test_client())) for reader in yes + no]
        for reader, client in voters:
            client.login(reader)
            assert (
                client.post(f"/api/v1/comments/{second.id}/votes", {"value": 1}).status_code == 200
            )
        assert _ids(anonymous.get(path).json) == [second.id, first.id]
        # One No reader moves to Yes on the page: No no longer weighs in, and the
        # cached answer does not hide it.
        reader, client = voters[2]
        response = client.form(f"/articles/{article.slug}/poll", {"option_id": str(options[0].id)})
        assert response.status_code in (302, 303)
        items = anonymous.get(path).json["items"]
        assert [item["common_ground"] for item in items] == [0.0, 0.0]
        assert [item["id"] for item in items] == [second.id, first.id]  # by score now
        assert cg.recount_article(article.id) == 0
