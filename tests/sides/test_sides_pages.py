"""The pages of common ground (issue 20): "What each side is saying" on the article page
(only where this reader sees the results, cached pages included), the editor's section,
and the moderators' divisive watch list with one-click featuring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import select, update

from tests.sides.sides_data import build_thread, set_reactions, vote
from webapp.models import Comment, ModerationAction, utcnow
from webapp.services.comments import sides as side_rules

SECTION = "What each side is saying"


def _page(api, article):
    response = api.get(f"/articles/{article.slug}")
    assert response.status_code == 200
    return response


def _thread_with_sides(make_article, make_user, **poll):
    t = build_thread(make_article, make_user, **poll)
    said = t.said
    set_reactions(
        t.article,
        [
            (said["yes2"], t.yes, 3, 0, True),
            (said["no1"], t.no, 2, 0, True),
            (said["no3"], t.yes, 4, 0, False),
            (said["no3"], t.no, 4, 0, True),
        ],
        common_ground={said["no3"]: 0.7},
    )
    return t


def test_the_article_page_shows_each_side_and_the_common_ground(make_article, make_user, api):
    t = _thread_with_sides(make_article, make_user)
    html = _page(api, t.article).get_data(as_text=True)
    section = html[html.index(f'<h2 id="sides-title">{SECTION}</h2>') : html.index('id="comments"')]
    assert "Readers who answered “Yes”" in section and "Readers who answered “No”" in section
    # Each side's comment with its author's answer, then the bridging one marked.
    assert section.index("Comment yes2") < section.index("Readers who answered “No”")
    assert "Comment no1" in section and "voted: No" in section and "voted: Yes" in section
    common = section[section.index('id="common-ground-title"') :]
    assert "Comment no3" in common and "Valued across answers" in common
    assert "Comment yes2" not in common


def test_no_section_before_the_results_are_visible_even_on_a_shared_cached_page(
    make_article, make_user, make_api, app
):
    t = _thread_with_sides(make_article, make_user, results_visibility="after_vote")
    # A signed-out reader without cookies: the page a shared cache may keep.
    anonymous = _page(make_api(), t.article)
    assert "public" in anonymous.headers["Cache-Control"]
    assert SECTION not in anonymous.get_data(as_text=True)
    assert "voted:" not in anonymous.get_data(as_text=True)
    reader = make_user()
    api = make_api()
    api.login(reader)
    assert SECTION not in _page(api, t.article).get_data(as_text=True)
    vote(t.article, reader, 0)
    voted = _page(api, t.article)
    assert SECTION in voted.get_data(as_text=True)
    assert "private" in voted.headers["Cache-Control"]
    # ... and the cookieless page stays without it.
    assert SECTION not in _page(make_api(), t.article).get_data(as_text=True)


def test_after_close_the_section_waits_for_the_close(make_article, make_user, make_api, db):
    t = _thread_with_sides(make_article, make_user, results_visibility="after_close")
    reader = make_user()
    api = make_api()
    api.login(reader)
    vote(t.article, reader, 1)
    assert SECTION not in _page(api, t.article).get_data(as_text=True)
    t.article.poll.closed_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for who in (api, make_api()):
        assert SECTION in _page(who, t.article).get_data(as_text=True)


def test_an_article_without_a_poll_has_no_section(make_article, api):
    assert SECTION not in _page(api, make_article()).get_data(as_text=True)


def test_the_editor_section_lists_sides_and_candidates_with_a_feature_form(
    make_article, make_user, app
):
    t = _thread_with_sides(make_article, make_user, results_visibility="after_close")
    editor = make_user(role="editor")
    with app.test_request_context(f"/editor/articles/{t.article.id}/results"):
        html = render_template("editor/_sides.html", sides=side_rules.for_editor(t.article, editor))
    assert SECTION in html and "Comment yes2" in html
    candidates = html[html.index('id="editor-common-ground"') :]
    assert "Comment no3" in candidates
    assert f'action="/moderation/comments/{t.said["no3"].id}/feature"' in candidates
    assert 'name="csrf_token"' in candidates
    assert f'name="next" value="/editor/articles/{t.article.id}/results?"' in candidates
    plain = make_article()
    assert side_rules.for_editor(plain, editor) is None


def _divisive(t, db):
    """no2 splits the answers (Yes readers reject it, No readers approve)."""
    said = t.said
    set_reactions(
        t.article,
        [(said["no2"], t.yes, 0, 6, False), (said["no2"], t.no, 5, 0, True)],
        common_ground={said["no3"]: 0.6},
    )
    db.session.execute(update(Comment).where(Comment.id == said["no2"].id).values(divisiveness=0.8))
    db.session.execute(
        update(Comment).where(Comment.id == said["yes3"].id).values(divisiveness=0.3)
    )
    db.session.commit()


def test_moderators_watch_divisive_comments_with_the_split(make_article, make_user, make_api, db):
    t = build_thread(make_article, make_user)
    _divisive(t, db)
    moderator = make_api()
    moderator.login(make_user(role="moderator"))
    response = moderator.get("/moderation/divisive")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    watch = html[html.index('id="divisive-title"') : html.index('id="candidates-title"')]
    assert watch.index("Comment no2") < watch.index("Comment yes3")
    assert t.article.title in watch and "Divisiveness 0.80" in watch
    # The split: Yes readers 0 up 6 down, No readers 5 up 0 down.
    assert '<th scope="row">Yes</th><td>0</td><td>6</td>' in watch
    assert '<th scope="row">No</th><td>5</td><td>0</td>' in watch
    assert "Comment no3" in html[html.index('id="candidates-title"') :]
    # The tab is there and current.
    assert 'href="/moderation/divisive" aria-current="page"' in html
    # Filtered to another article: nothing.
    other = make_article(poll=True)
    filtered = moderator.get(f"/moderation/divisive?article={other.id}").get_data(as_text=True)
    assert "Comment no2" not in filtered
    assert moderator.get("/moderation/divisive?page=2").status_code == 404


def test_the_watch_list_pages(make_article, make_user, db):
    t = build_thread(make_article, make_user)
    for n, name in enumerate(["yes1", "yes2", "yes3", "no1", "no2"]):
        db.session.execute(
            update(Comment).where(Comment.id == t.said[name].id).values(divisiveness=0.9 - n / 10)
        )
    db.session.commit()
    first = side_rules.divisive(1, 2)
    assert [i.comment.id for i in first.items] == [t.said["yes1"].id, t.said["yes2"].id]
    assert first.has_more
    last = side_rules.divisive(3, 2)
    assert [i.comment.id for i in last.items] == [t.said["no2"].id] and not last.has_more


@pytest.mark.parametrize("role", ["moderator", "editor"])
def test_one_click_features_a_candidate_and_logs_it(make_article, make_user, make_api, db, role):
    t = build_thread(make_article, make_user)
    _divisive(t, db)
    who = make_user(role=role)
    api = make_api()
    api.login(who)
    target = t.said["no3"]
    back = (
        f"/editor/articles/{t.article.id}/results" if role == "editor" else "/moderation/divisive"
    )
    response = api.form(f"/moderation/comments/{target.id}/feature", {"next": back})
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    db.session.expire_all()
    assert db.session.get(Comment, target.id).featured_at is not None
    entry = db.session.scalars(
        select(ModerationAction).where(ModerationAction.comment_id == target.id)
    ).one()
    assert entry.action == "feature" and entry.actor_id == who.id
    # Featured, it is no longer a candidate.
    assert target.id not in [c.comment.id for c in side_rules.feature_candidates([t.article.id])]


def test_readers_cannot_feature(make_article, make_user, make_api, db):
    t = build_thread(make_article, make_user)
    api = make_api()
    api.login(make_user())
    assert api.form(f"/moderation/comments/{t.said['no1'].id}/feature", {}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Comment, t.said["no1"].id).featured_at is None


def test_candidates_across_articles_come_from_recent_poll_articles(make_article, make_user, db):
    first = build_thread(make_article, make_user, " north")
    second = build_thread(make_article, make_user, " south")
    set_reactions(first.article, [], common_ground={first.said["yes1"]: 0.5})
    set_reactions(second.article, [], common_ground={second.said["no1"]: 0.9})
    found = side_rules.feature_candidates()
    assert [c.comment.id for c in found] == [second.said["no1"].id, first.said["yes1"].id]
    assert found[0].article_title == second.article.title


def test_the_editors_results_page_carries_the_sides_section(make_article, make_user, make_api):
    t = _thread_with_sides(make_article, make_user, results_visibility="after_close")
    editor = make_api()
    editor.login(make_user(role="editor"))
    page = editor.get(f"/editor/articles/{t.article.id}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Listed in the page's contents and shown, with the one-click feature form.
    assert 'href="#sides-title"' in html and SECTION in html
    assert f'action="/moderation/comments/{t.said["no3"].id}/feature"' in html
