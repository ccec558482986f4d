"""The thread's hot queries read index ranges, never a whole table (issue 15).

Each page of a thread, in every sort, first page and later ones, for every kind of
reader, is checked against the database's own plan: the top-level comments come from
ranges of the thread indexes already in the page's order (no sort of the thread), the
commenters' poll answers from a (poll, user) lookup for the authors on the page, and no
statement reads the whole of ``comments`` or ``votes``. The pages themselves are the
same as the one-query reading they replace, comment for comment.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests import thread_data
from tests.conftest import PASSWORD
from tests.query_plans import Plan, explain, selects, statements
from webapp.extensions import db
from webapp.models import Comment, CommentStatus, Role, User, Vote
from webapp.services import comments, polls
from webapp.services.accounts import create_user
from webapp.services.comments.rules import DEEPEST_SHOWN

SORTS = ("oldest", "newest", "top", "common_ground")
ROOT_INDEXES = {
    "oldest": "ix_comments_thread_roots",
    "newest": "ix_comments_thread_roots",
    "top": "ix_comments_thread_top",
    "common_ground": "ix_comments_thread_common_ground",
}
PAGE = 7
#: Indexes of a few rows by design (a reader's own unpublished top-level comments).
OWN = frozenset({"ix_comments_own_unpublished_roots"})
FEATURED = frozenset({"ix_comments_thread_featured", "ix_comments_thread_featured_top"})
# The module (the package exports its function ``thread`` under the same name).
thread_module = importlib.import_module("webapp.services.comments.thread")


@pytest.fixture(scope="module")
def site(backend) -> Iterator[thread_data.Thread]:
    built = thread_data.site(backend)
    thread = next(built)
    spread_common_ground()
    yield thread
    next(built, None)


def spread_common_ground() -> None:
    """Common-ground scores in runs that tie page after page, as the scores do: set
    here as the triggers would leave them (the thread's reactions are not by answer)."""
    db.session.execute(
        sa.update(Comment)
        .where(Comment.parent_id.is_(None))
        .values(
            common_ground=sa.case(
                (Comment.id % 3 == 0, 0.75), (Comment.id % 3 == 1, 0.6), else_=0.0
            )
        )
    )
    db.session.commit()


@pytest.fixture(autouse=True)
def _ends_its_transaction(site) -> Iterator[None]:
    yield
    db.session.rollback()


def _viewer(site: thread_data.Thread, who: str) -> User | None:
    viewer = {"anonymous": None, "reader": site.viewer, "moderator": site.moderator}[who]
    if viewer is not None:
        db.session.refresh(viewer)  # read now, not inside a block whose queries count
    return viewer


def _reference(article: Any, viewer: User | None, sort: str, featured: bool) -> list[Any]:
    """Every top-level comment the viewer sees, in the sort's order, read the way the
    thread read them before (one query, the visibility as one condition)."""
    if viewer is None:
        visible = Comment.status == CommentStatus.PUBLISHED
    elif viewer.role == "moderator":
        visible = Comment.status != CommentStatus.REJECTED
    else:
        visible = sa.or_(Comment.status == CommentStatus.PUBLISHED, Comment.author_id == viewer.id)
    query = (
        sa.select(*thread_module._VIEW_COLUMNS)
        .join(User, User.id == Comment.author_id)
        .where(Comment.article_id == article.id, Comment.parent_id.is_(None), visible)
    )
    if featured:
        query = query.where(Comment.featured_at.is_not(None))
    order = {
        "common_ground": (Comment.common_ground.desc(), Comment.score.desc(), Comment.id.asc()),
        "top": (Comment.score.desc(), Comment.id.asc()),
        "newest": (Comment.id.desc(),),
        "oldest": (Comment.id.asc(),),
    }[sort]
    return thread_module._views(query.order_by(*order))


def _pages(article: Any, viewer: User | None, sort: str, featured: bool = False):
    after = None
    while True:
        page = comments.thread(
            article, viewer, sort=sort, limit=PAGE, after=after, featured_only=featured
        )
        yield page
        if page.next_cursor is None:
            return
        after = page.next_cursor


@pytest.mark.parametrize("who", ["anonymous", "reader", "moderator"])
def test_every_page_is_the_one_the_single_query_read(site, who):
    """Read in ranges and merged, the pages hold the same comments in the same order,
    with the same cursors, as the one query they replace, across a whole thread whose
    scores tie page after page, in every sort, featured or not."""
    article = site.article
    viewer = _viewer(site, who)
    for sort in SORTS:
        for featured in (False, True):
            expected = _reference(article, viewer, sort, featured)
            shown = []
            for page in _pages(article, viewer, sort, featured):
                shown.extend(node.comment for node in page.items)
                if page.next_cursor is not None:
                    last = page.items[-1].comment
                    if sort == "common_ground":
                        assert page.next_cursor == (last.common_ground, last.score, last.id)
                    else:
                        assert page.next_cursor == (last.score if sort == "top" else 0, last.id)
            assert shown == expected, (sort, featured)
            assert len(expected) > (PAGE if featured else 10 * PAGE)
    if who == "reader":
        shown_ids = {c.id for c in _reference(article, viewer, "top", False)}
        assert set(site.own_unpublished) <= shown_ids


def _plans(ran) -> list[tuple[str, Plan]]:
    # On the session's own connection: SQLite lets one writer in at a time.
    connection = db.session.connection()
    return [(r.statement, explain(connection, r)) for r in selects(ran)]


def _roots_plan(plans: list[tuple[str, Plan]]) -> Plan:
    """The plan of the page's top-level comments: the first statement on comments."""
    return next(plan for statement, plan in plans if "parent_id IS NULL" in statement)


def _second_page_cursor(article: Any, viewer: User | None, sort: str) -> Any:
    first = comments.thread(article, viewer, sort=sort, limit=PAGE)
    # A "top" cursor inside a run of equal scores, the case a single range cannot serve.
    assert first.next_cursor is not None
    return first.next_cursor


@pytest.mark.parametrize("who", ["anonymous", "reader", "moderator"])
def test_a_thread_page_reads_index_ranges_in_the_page_order(site, who):
    for sort in SORTS:
        for later in (False, True):
            viewer = _viewer(site, who)
            after = _second_page_cursor(site.article, viewer, sort) if later else None
            with statements(db.engine) as ran:
                page = comments.thread(
                    site.article, viewer, sort=sort, limit=PAGE, after=after,
                    answers_visible=True,
                )  # fmt: skip
            assert len(page.items) == PAGE
            plans = _plans(ran)
            for statement, plan in plans:
                assert not plan.full_reads("comments", "votes"), f"{statement}\n{plan.text}"
            roots = _roots_plan(plans)
            assert ROOT_INDEXES[sort] in roots.indexes("comments"), roots.text
            # No sort of the thread: the ranges come in the page's order, and at most a
            # page of each is merged (a reader's own unpublished comments, a few, may be).
            assert roots.sorts_of("comments", OWN) == 0, roots.text
            if who == "reader":
                assert roots.indexes("comments") >= OWN, roots.text
            answers = next(plan for statement, plan in plans if "poll_options" in statement)
            assert answers.indexes("votes") == {"ix_votes_poll_id_user_id"}, answers.text


def test_featured_pages_read_only_the_featured_comments(site):
    for sort in SORTS:
        with statements(db.engine) as ran:
            comments.thread(site.article, None, sort=sort, limit=PAGE, featured_only=True)
        roots = _roots_plan(_plans(ran))
        # Either of the featured indexes (a few rows each; PostgreSQL may sort them).
        assert roots.indexes("comments") and roots.indexes("comments") <= FEATURED, roots.text
        assert not roots.full_reads("comments")


@pytest.mark.parametrize("who", ["anonymous", "reader", "moderator"])
def test_a_page_costs_the_same_queries_whatever_its_size(site, who):
    """At most: the top-level comments, each level of replies, the names of the comments
    the deepest replies answer, the commenters' answers and the reader's reactions."""
    most = 1 + DEEPEST_SHOWN + 3
    counts = []
    for limit in (3, 30, 300):
        for sort in SORTS:
            viewer = _viewer(site, who)
            after = comments.thread(site.article, viewer, sort=sort, limit=limit).next_cursor
            for start in (None, after):
                with statements(db.engine) as ran:
                    comments.thread(
                        site.article, viewer, sort=sort, limit=limit, after=start,
                        answers_visible=True,
                    )  # fmt: skip
                counts.append(len(selects(ran)))
    assert max(counts) <= most, counts


def test_signing_in_adopts_anonymous_votes_by_an_index_lookup(site):
    """(Moves one anonymous vote of the poll to a new account: no other test reads it.)"""
    user = create_user("adopter@example.org", PASSWORD, Role.READER, "Adopter")
    db.session.commit()
    key = polls.anonymous_voter_key(f"{7:032x}")
    assert user.id
    with statements(db.engine) as ran:
        assert polls.adopt_anonymous_vote(key, user) == 1
    plans = _plans(ran)
    assert len(plans) == 2
    for _statement, plan in plans:
        assert not plan.full_reads("votes"), plan.text
    assert plans[0][1].indexes("votes") == {"ix_votes_anonymous_voter_key"}, plans[0][1].text
    db.session.commit()
    adopted = db.session.scalars(sa.select(Vote).where(Vote.user_id == user.id)).all()
    assert [(v.poll_id, v.voter_key) for v in adopted] == [
        (site.poll_id, polls.user_voter_key(user))
    ]
