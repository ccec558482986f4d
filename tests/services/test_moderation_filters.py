"""Narrowing a moderation queue: by article, by the reason it is there, by author or
text; each filtered page reads a bounded stretch of the queue, and says when it
stopped looking before the queue ended."""

from __future__ import annotations

import pytest

from webapp.services import comments, moderation
from webapp.services.moderation import queues


def submit(db, article, author, body):
    comment = comments.submit(article, author, body)
    db.session.commit()
    return comment


def ids(status="pending", **filters):
    page = moderation.queue_page(status, 20, None, moderation.queue_filters(**filters))
    return [item.comment.id for item in page.items]


@pytest.fixture
def premoderated(make_article):
    return make_article(comments="premoderated", title="Harbour bridge")


def test_the_article_filter_keeps_that_articles_comments(db, make_article, premoderated, reader):
    other = make_article(comments="premoderated", title="Ferry fares")
    here = submit(db, premoderated, reader, "On the bridge")
    submit(db, other, reader, "On the ferry")
    assert ids(article_id=premoderated.id) == [here.id]
    assert len(ids()) == 2


def test_the_reason_filter_matches_why_it_was_held(db, make_article, reader, moderator):
    moderation.add_term(moderator, "tollbooth", "suspect")
    db.session.commit()
    open_article = make_article()
    suspect = submit(db, open_article, reader, "Burn the tollbooth down")
    assert suspect.status == "pending"
    premod = make_article(comments="premoderated")
    waiting = submit(db, premod, reader, "A calm remark")
    assert ids(reason="suspect_words") == [suspect.id]
    assert ids(reason="premoderated") == [waiting.id]


def test_the_reason_filter_matches_what_readers_reported(db, make_article, reader, make_user):
    article = make_article()
    spammy = submit(db, article, reader, "Buy my course")
    rude = submit(db, article, reader, "You are all fools")
    comments.flag(spammy, make_user(), "spam")
    comments.flag(rude, make_user(), "abuse")
    db.session.commit()
    assert ids("reported", reason="spam") == [spammy.id]
    assert ids("reported", reason="abuse") == [rude.id]
    assert ids("reported", reason="off_topic") == []


def test_search_finds_the_author_or_the_text_whatever_the_case(db, premoderated, make_user, reader):
    writer = make_user(name="Grace Hopper")
    by_name = submit(db, premoderated, writer, "Nanoseconds matter")
    by_text = submit(db, premoderated, reader, "What about GRACE periods?")
    submit(db, premoderated, reader, "Nothing to see")
    assert ids(search="grace") == [by_name.id, by_text.id]
    assert ids(search="hopper") == [by_name.id]
    assert ids(search="  nanoSECONDS  ") == [by_name.id]


def test_search_wildcards_are_plain_characters(db, premoderated, reader):
    percent = submit(db, premoderated, reader, "Up 100% on last year")
    submit(db, premoderated, reader, "Up 100 on last year")
    snake = submit(db, premoderated, reader, "snake_case is fine")
    submit(db, premoderated, reader, "one cat")  # "e c": what _ as a wildcard would match
    assert ids(search="100%") == [percent.id]
    assert ids(search="e_c") == [snake.id]


def test_filters_combine(db, make_article, premoderated, reader, make_user):
    other = make_article(comments="premoderated")
    match = submit(db, premoderated, reader, "bridge tolls again")
    submit(db, other, reader, "bridge tolls again")
    submit(db, premoderated, reader, "ferry")
    assert ids(article_id=premoderated.id, search="tolls", reason="premoderated") == [match.id]


def test_what_is_not_a_filter_is_ignored(db, premoderated, reader):
    submit(db, premoderated, reader, "One")
    filters = moderation.queue_filters(None, "no-such-reason", "   ")
    assert not filters.active
    assert ids(reason="no-such-reason", search=" ") == ids()
    assert len(moderation.queue_filters(search="x" * 500).search) == moderation.MAX_SEARCH


def test_a_filtered_page_looks_through_a_bounded_window_and_says_so(
    db, premoderated, reader, monkeypatch
):
    monkeypatch.setattr(queues, "SEARCH_WINDOW", 3)
    posted = [submit(db, premoderated, reader, f"plain {i}") for i in range(4)]
    needle = submit(db, premoderated, reader, "the needle")
    filters = moderation.queue_filters(search="needle")

    first = moderation.queue_page("pending", 20, None, filters)
    assert first.items == [] and first.stopped_looking
    assert first.next_key == (posted[2].created_at, posted[2].id)

    second = moderation.queue_page("pending", 20, first.next_key, filters)
    assert [item.comment.id for item in second.items] == [needle.id]
    assert not second.stopped_looking and second.next_key is None


def test_a_filtered_page_is_paged_in_queue_order(db, premoderated, reader):
    matches = [submit(db, premoderated, reader, f"match {i}") for i in range(3)]
    submit(db, premoderated, reader, "other")
    filters = moderation.queue_filters(search="match")
    first = moderation.queue_page("pending", 2, None, filters)
    assert [i.comment.id for i in first.items] == [matches[0].id, matches[1].id]
    assert not first.stopped_looking
    second = moderation.queue_page("pending", 2, first.next_key, filters)
    assert [i.comment.id for i in second.items] == [matches[2].id]
    assert second.next_key is None


def test_the_reported_queue_filters_in_its_rank_order(
    db, make_article, reader, make_user, monkeypatch
):
    monkeypatch.setattr(queues, "SEARCH_WINDOW", 2)
    article = make_article()
    once = submit(db, article, reader, "spam once")
    twice = submit(db, article, reader, "spam twice")
    other = submit(db, article, reader, "abuse")
    comments.flag(once, make_user(), "spam")
    for _ in range(2):
        comments.flag(twice, make_user(), "spam")
    for _ in range(3):
        comments.flag(other, make_user(), "abuse")
    db.session.commit()
    filters = moderation.queue_filters(reason="spam")
    first = moderation.queue_page("reported", 20, None, filters)
    # The window holds the two most reported (other, twice): one of them matches.
    assert [i.comment.id for i in first.items] == [twice.id] and first.stopped_looking
    second = moderation.queue_page("reported", 20, first.next_key, filters)
    assert [i.comment.id for i in second.items] == [once.id]


def test_unfiltered_pages_are_the_queue(db, premoderated, reader):
    submit(db, premoderated, reader, "One")
    page = moderation.queue_page("pending", 20, None, moderation.queue_filters())
    assert [i.comment.id for i in page.items] == [i.comment.id for i in moderation.queue()[0]]


def test_in_queue_follows_a_decision(db, premoderated, reader, moderator):
    comment = submit(db, premoderated, reader, "Held")
    assert moderation.in_queue(comment, "pending")
    moderation.decide(comment, moderator, "approve")
    db.session.commit()
    assert not moderation.in_queue(comment, "pending")
    assert moderation.in_queue(comment, "approved")
    moderation.decide(comment, moderator, "reject")
    assert moderation.in_queue(comment, "rejected") and not moderation.in_queue(comment, "nope")


def test_recent_articles_offer_the_chosen_one_too(make_article):
    old = make_article(title="Old news")
    newer = [make_article(title=f"New {i}") for i in range(3)]
    offered = moderation.recent_articles(limit=2, include=old.id)
    assert [a.id for a in offered] == [newer[2].id, newer[1].id, old.id]


def test_a_filtered_page_reads_the_queue_index_and_rows_by_key(
    db, make_article, premoderated, reader, make_user
):
    """Whatever the filters, the comments are read from the queue's own partial index
    (a stretch of it, LIMIT bounded) and then by primary key; authors, reports and
    articles by key: no whole table is read (PostgreSQL with sequential scans off, as
    a table this small would be read whole otherwise)."""
    from tests.query_plans import explain, selects, statements

    for i in range(3):
        submit(db, premoderated, reader, f"Remark {i}")
    filters = moderation.queue_filters(premoderated.id, "spam", "remark")
    with statements(db.engine) as ran:
        moderation.queue_page("pending", 20, None, filters)
        moderation.queue_page("reported", 20, None, filters)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        # Nor a bitmap of the whole (tiny) partial index and a sort: with a real queue
        # the LIMIT makes the ordered index walk the cheaper plan, and once autovacuum
        # has analysed these few rows the planner may pick either (a full run did).
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    plans = [explain(connection, statement) for statement in selects(ran)]
    whole = [
        access
        for plan in plans
        for access in plan.full_reads("comments", "users", "comment_flags", "articles")
        if access.index not in ("ix_comments_pending_queue", "ix_comments_reported_queue_ranked")
    ]
    assert not whole, whole
    read = {index for plan in plans for index in plan.indexes("comments")}
    assert "ix_comments_pending_queue" in read
