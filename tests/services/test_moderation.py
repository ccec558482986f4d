from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from webapp.errors import Banned, Conflict, Forbidden, InvalidInput
from webapp.models import Comment, ModerationAction, utcnow
from webapp.services import comments, moderation
from webapp.services.moderation import (
    BannedWordUsed,
    count_links,
    find_terms,
    moderation_settings,
    update_moderation_settings,
)


@pytest.mark.parametrize(
    "text",
    [
        "this is spam",
        "THIS IS SPAM",
        "s.p.a.m",
        "s p a m here",
        "spaaaaam",
        "5pam",
        "$pam",
        "Spám",
        "sp-am",
        "spammers everywhere",
    ],
)
def test_listed_words_are_found_through_common_disguises(text):
    assert find_terms(text, ["spam"]) == ["spam"]


@pytest.mark.parametrize("text", ["a spa day", "classic", "Spain", "the grass is green"])
def test_innocent_words_are_not_matched(text):
    assert find_terms(text, ["spam", "ass"]) == []


def test_phrases_match_across_words():
    assert find_terms("Buy CHEAP   p1lls now", ["cheap pills"]) == ["cheap pills"]
    assert find_terms("cheap and pills", ["cheap pills"]) == []


def test_links_are_counted():
    assert count_links("see https://a.example and www.b.example or [c](http://c.example)") == 3


@pytest.fixture
def article(make_article):
    return make_article()


def submit(db, article, author, body="Fair point."):
    comment = comments.submit(article, author, body)
    db.session.commit()
    return comment


def test_banned_words_refuse_the_comment_with_a_clear_message(app, db, article, reader, moderator):
    moderation.add_term(moderator, "scumbag", "banned")
    db.session.commit()
    with pytest.raises(BannedWordUsed) as error:
        comments.submit(article, reader, "You S.C.U.M.B.A.G")
    assert "scumbag" in error.value.message and error.value.status == 422
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0


def test_suspect_words_hold_the_comment_with_the_reason(app, db, article, reader, moderator):
    moderation.add_term(moderator, "crypto", "suspect")
    db.session.commit()
    comment = submit(db, article, reader, "Great article, also try CRYPT0 trading")
    assert comment.status == "pending"
    assert comment.reasons_held == ["suspect words: crypto"]


def test_many_links_hold_the_comment(app, db, article, reader):
    body = "https://a.example https://b.example https://c.example"
    comment = submit(db, article, reader, body)
    assert comment.status == "pending"
    assert comment.reasons_held == ["3 links (more than 2)"]
    assert submit(db, article, reader, "https://a.example https://b.example").status == "published"


def test_toxic_comments_are_held_never_dropped(app, db, article, reader):
    comment = submit(db, article, reader, "You are a stupid idiot and a moron")
    assert comment.status == "pending"
    assert any(reason.startswith("toxicity") for reason in comment.reasons_held)
    assert comment.toxicity > 0.8
    assert db.session.get(Comment, comment.id) is not None


def test_the_toxicity_threshold_is_a_setting(app, db, article, reader, moderator):
    update_moderation_settings(moderator, {"toxicity_threshold": 1.0})
    db.session.commit()
    assert submit(db, article, reader, "You are a stupid idiot").status == "published"


def test_new_authors_are_held_when_the_site_turns_it_on(
    app, db, article, reader, make_user, moderator
):
    assert submit(db, article, reader).status == "published"  # off by default
    update_moderation_settings(moderator, {"new_author_hold_count": 2})
    db.session.commit()
    newcomer = make_user()
    first = submit(db, article, newcomer, "First words")
    assert first.status == "pending"
    assert first.reasons_held == ["new author (first 2 comments)"]
    # The established reader has one published comment: still under 2, so held too.
    assert submit(db, article, reader, "Second").status == "pending"


def test_recently_rejected_authors_are_held(app, db, article, reader, moderator):
    for i in range(3):
        moderation.decide(
            submit(db, article, reader, f"Bad take {i}"), moderator, "reject", "Off topic"
        )
    db.session.commit()
    held = submit(db, article, reader, "A perfectly nice comment")
    assert held.status == "pending"
    assert held.reasons_held == ["author rejected 3 times in 30 days"]


def test_edited_comments_are_checked_again(app, db, article, reader, moderator):
    moderation.add_term(moderator, "crypto", "suspect")
    comment = submit(db, article, reader, "Nice")
    comments.edit(comment, reader, "Nice, now buy crypto")
    db.session.commit()
    assert comment.status == "pending"
    db.session.refresh(article)
    assert article.comment_count == 0


def test_staff_comments_skip_holds_but_not_banned_words(app, db, make_article, moderator):
    article = make_article(comments="premoderated")
    assert submit(db, article, moderator, "Moderator note").status == "published"
    moderation.add_term(moderator, "slur", "banned")
    with pytest.raises(BannedWordUsed):
        comments.submit(article, moderator, "a slur")


def test_approving_publishes_and_is_logged(app, db, make_article, reader, moderator):
    article = make_article(comments="premoderated")
    comment = submit(db, article, reader)
    moderation.decide(comment, moderator, "approve")
    db.session.commit()
    assert comment.status == "published" and comment.moderated_at is not None
    db.session.refresh(article)
    assert article.comment_count == 1
    assert [n.comment.id for n in comments.thread(article, None).items] == [comment.id]
    [entry] = db.session.scalars(db.select(ModerationAction)).all()
    assert (entry.action, entry.actor_id, entry.comment_id, entry.target_user_id) == (
        "approve",
        moderator.id,
        comment.id,
        reader.id,
    )


def test_rejecting_hides_from_readers_and_tells_the_author_why(
    app, db, article, reader, moderator, make_user
):
    comment = submit(db, article, reader)
    moderation.decide(comment, moderator, "reject", "Personal attack")
    db.session.commit()
    assert comments.thread(article, make_user()).items == []
    [own] = comments.thread(article, reader).items
    assert own.comment.status == "rejected"
    assert own.comment.rejection_reason == "Personal attack"
    db.session.refresh(article)
    assert article.comment_count == 0


def test_featured_comments_make_the_featured_tab(app, db, article, reader, moderator):
    plain = submit(db, article, reader, "Plain")
    star = submit(db, article, reader, "Star")
    moderation.decide(star, moderator, "feature")
    db.session.commit()
    featured = comments.thread(article, None, featured_only=True).items
    assert [n.comment.id for n in featured] == [star.id]
    moderation.decide(star, moderator, "unfeature")
    db.session.commit()
    assert comments.thread(article, None, featured_only=True).items == []
    pending = submit(db, article, reader, "Held one")
    moderation.decide(pending, moderator, "reject")
    with pytest.raises(Conflict):
        moderation.decide(pending, moderator, "feature")
    assert plain.featured_at is None


def test_bulk_decisions_are_all_or_nothing(app, db, make_article, reader, moderator):
    article = make_article(comments="premoderated")
    ids = [submit(db, article, reader, f"c{i}").id for i in range(3)]
    done = moderation.decide_many(ids, moderator, "approve")
    db.session.commit()
    assert [c.status for c in done] == ["published"] * 3
    from webapp.errors import NotFound

    with pytest.raises(NotFound):
        moderation.decide_many([ids[0], 999999], moderator, "reject")
    db.session.rollback()
    assert db.session.get(Comment, ids[0]).status == "published"


def test_queues_hold_the_right_comments_oldest_first(
    app, db, make_article, reader, moderator, make_user
):
    premod = make_article(comments="premoderated")
    open_article = make_article()
    pending = [submit(db, premod, reader, f"p{i}") for i in range(2)]
    reported = submit(db, open_article, reader, "report me")
    for _ in range(3):
        comments.flag(reported, make_user(), "abuse")
    db.session.commit()
    rejected = submit(db, premod, reader, "reject me")
    moderation.decide(rejected, moderator, "reject")
    moderation.decide(pending[1], moderator, "approve")
    db.session.commit()

    def ids(status):
        return [item.comment.id for item in moderation.queue(status)[0]]

    assert ids("pending") == [pending[0].id]
    assert ids("reported") == [reported.id]
    assert ids("rejected") == [rejected.id]
    assert ids("approved") == [pending[1].id]
    assert moderation.queue_counts() == {
        "pending": 1,
        "reported": 1,
        "rejected": 1,
        "approved": 1,
    }
    [item] = moderation.queue("reported")[0]
    assert item.flags == [("abuse", 3)]
    assert item.author.comments == 4 and item.author.rejected == 1


def test_reported_comments_can_be_hidden_until_reviewed(
    app, db, article, reader, make_user, make_established_user, moderator
):
    update_moderation_settings(moderator, {"hide_reported": True, "report_threshold": 2})
    comment = submit(db, article, reader)
    comments.flag(comment, make_established_user(), "spam")
    assert comment.status == "published"
    comments.flag(comment, make_established_user(), "spam")
    db.session.commit()
    assert comment.status == "pending" and comment.reported_at is not None
    assert comments.thread(article, make_user()).items == []


def test_approved_reported_comment_needs_fresh_reports_to_return(
    app, db, article, reader, moderator, make_user
):
    update_moderation_settings(moderator, {"report_threshold": 1})
    comment = submit(db, article, reader)
    comments.flag(comment, make_user(), "spam")
    moderation.decide(comment, moderator, "approve")
    db.session.commit()
    assert comment.reported_at is None
    comments.flag(comment, make_user(), "spam")
    db.session.commit()
    assert comment.reported_at is not None


def test_bans_block_every_write_and_expire(app, db, make_article, reader, moderator):
    from webapp.services import polls

    article = make_article(poll=True)
    existing = submit(db, article, reader, "before the ban")
    other = submit(db, article, moderator, "someone else's")
    moderation.ban(reader, moderator, "Repeated abuse", utcnow() + timedelta(days=7))
    db.session.commit()
    writes = [
        lambda: comments.submit(article, reader, "again"),
        lambda: comments.edit(existing, reader, "edit"),
        lambda: comments.delete(existing, reader),
        lambda: comments.react(other, reader, 1),
        lambda: comments.flag(other, reader, "spam"),
    ]
    for write in writes:
        with pytest.raises(Banned):
            write()
    from webapp.services.accounts import ensure_can_write

    with pytest.raises(Banned):
        ensure_can_write(reader)
    ensure_can_write(reader, utcnow() + timedelta(days=8))  # the ban has run out by then
    assert polls.results_visible(article.poll, reader, False)  # reading still works
    moderation.unban(reader, moderator, "Apologised")
    db.session.commit()
    ensure_can_write(reader)
    actions = [
        e.action
        for e in db.session.scalars(db.select(ModerationAction).order_by(ModerationAction.id))
    ]
    assert actions == ["ban", "unban"]


def test_ban_rules(app, db, reader, moderator, make_user):
    with pytest.raises(InvalidInput):
        moderation.ban(reader, moderator, "")
    with pytest.raises(InvalidInput):
        moderation.ban(reader, moderator, "x", datetime(2001, 1, 1, tzinfo=UTC))
    with pytest.raises(Forbidden):
        moderation.ban(moderator, moderator, "self")
    with pytest.raises(Forbidden):
        moderation.ban(make_user(role="admin"), moderator, "coup")
    with pytest.raises(Forbidden):
        moderation.ban(make_user(role="editor"), moderator, "not yours to ban")
    moderation.ban(make_user(role="editor"), make_user(role="admin"), "admins may")
    moderation.ban(reader, moderator, "for good")
    assert reader.banned_until is None and reader.is_banned_at(utcnow() + timedelta(days=3650))


def test_audit_log_filters(app, db, make_article, reader, moderator, make_user):
    article = make_article(comments="premoderated")
    one, two = submit(db, article, reader, "First"), submit(db, article, reader, "Second")
    other_mod = make_user(role="moderator")
    moderation.decide(one, moderator, "approve")
    moderation.decide(two, other_mod, "reject", "No")
    moderation.ban(reader, moderator, "Enough")
    db.session.commit()
    everything, _ = moderation.audit_log()
    assert [e.action for e in everything] == ["ban", "reject", "approve"]
    assert [e.action for e in moderation.audit_log(action="reject")[0]] == ["reject"]
    assert [e.action for e in moderation.audit_log(actor_id=moderator.id)[0]] == [
        "ban",
        "approve",
    ]
    assert [e.action for e in moderation.audit_log(comment_id=two.id)[0]] == ["reject"]
    assert len(moderation.audit_log(user_id=reader.id)[0]) == 3
    page, next_key = moderation.audit_log(limit=2)
    assert (
        len(page) == 2 and moderation.audit_log(limit=2, after=next_key)[0][0].action == "approve"
    )


def test_settings_are_validated_and_stored(app, db, moderator):
    # Text such as "many" or "5" is read by the form first: tests/web/test_moderation_pages.py.
    with pytest.raises(InvalidInput) as error:
        update_moderation_settings(
            moderator, {"toxicity_threshold": 3, "max_links": 1.5, "nonsense": 1}
        )
    assert set(error.value.fields) == {"toxicity_threshold", "max_links", "nonsense"}
    assert error.value.fields["max_links"] == "must be a number"
    with pytest.raises(InvalidInput) as error:
        update_moderation_settings(moderator, {"hide_reported": 1, "report_threshold": True})
    assert error.value.fields == {
        "hide_reported": "must be true or false",
        "report_threshold": "must be a number",
    }
    update_moderation_settings(moderator, {"max_links": 5, "hide_reported": True})
    db.session.commit()
    assert moderation_settings().max_links == 5 and moderation_settings().hide_reported


def _settings_log(db):
    entries = db.session.scalars(
        db.select(ModerationAction)
        .where(ModerationAction.action == "settings")
        .order_by(ModerationAction.id)
    )
    return [(entry.actor_id, entry.details) for entry in entries]


def test_changing_settings_writes_the_moderation_log(app, db, moderator):
    update_moderation_settings(moderator, {"max_links": 5, "hide_reported": False})
    db.session.commit()
    # Only what changed: hide_reported was already off.
    assert _settings_log(db) == [(moderator.id, {"max_links": 5})]
    update_moderation_settings(moderator, {"max_links": 5.0})  # the same value again
    with pytest.raises(InvalidInput):
        update_moderation_settings(moderator, {"max_links": -1})
    db.session.rollback()
    assert _settings_log(db) == [(moderator.id, {"max_links": 5})]


def test_word_list_changes_write_the_moderation_log(app, db, moderator):
    entry = moderation.add_term(moderator, "Crypto", "suspect")
    moderation.add_term(moderator, "crypto", "banned")
    with pytest.raises(InvalidInput):
        moderation.add_term(moderator, "", "banned")
    moderation.remove_term(moderator, entry.id)
    db.session.commit()
    assert _settings_log(db) == [
        (moderator.id, {"term": "crypto", "kind": "suspect"}),
        (moderator.id, {"term": "crypto", "kind": "banned"}),
        (moderator.id, {"removed_term": entry.id}),
    ]


def test_word_lists(app, db, moderator):
    entry = moderation.add_term(moderator, "  Crypto  ", "suspect")
    assert entry.term == "crypto"
    moderation.add_term(moderator, "CRYPTO", "banned")
    assert [(t.term, t.kind) for t in moderation.word_list()] == [("crypto", "banned")]
    with pytest.raises(InvalidInput):
        moderation.add_term(moderator, "x", "maybe")
    moderation.remove_term(moderator, entry.id)
    assert moderation.word_list() == []


# --- every operation writes its own log entry ------------------------------------------


def _log(db):
    entries = db.session.scalars(db.select(ModerationAction).order_by(ModerationAction.id))
    return [
        (e.action, e.actor_id, e.comment_id, e.target_user_id, e.reason, e.details) for e in entries
    ]


def test_each_decision_on_a_comment_writes_its_entry(app, db, article, reader, moderator):
    comment = submit(db, article, reader)
    moderation.decide(comment, moderator, "feature")
    moderation.decide(comment, moderator, "unfeature")
    moderation.decide(comment, moderator, "reject", "  Off   topic ")
    moderation.decide(comment, moderator, "approve", "On reflection")
    db.session.commit()
    published = {"status_before": "published", "status_after": "published"}
    assert _log(db) == [
        ("feature", moderator.id, comment.id, reader.id, None, published),
        ("unfeature", moderator.id, comment.id, reader.id, None, published),
        (
            "reject",
            moderator.id,
            comment.id,
            reader.id,
            "Off topic",
            {"status_before": "published", "status_after": "rejected"},
        ),
        (
            "approve",
            moderator.id,
            comment.id,
            reader.id,
            "On reflection",
            {"status_before": "rejected", "status_after": "published"},
        ),
    ]


def test_a_refused_decision_writes_nothing(app, db, article, reader, moderator):
    comment = submit(db, article, reader)
    moderation.decide(comment, moderator, "reject")
    db.session.commit()
    with pytest.raises(Conflict):
        moderation.decide(comment, moderator, "feature")
    with pytest.raises(InvalidInput):
        moderation.decide(comment, moderator, "explode")
    with pytest.raises(InvalidInput):
        moderation.decide(comment, moderator, "approve", "x" * (moderation.MAX_REASON + 1))
    db.session.rollback()
    assert [entry[0] for entry in _log(db)] == ["reject"]


def test_a_bulk_decision_writes_an_entry_per_comment(app, db, make_article, reader, moderator):
    article = make_article(comments="premoderated")
    first, second = submit(db, article, reader, "one"), submit(db, article, reader, "two")
    moderation.decide_many([second.id, first.id, second.id], moderator, "reject", "Spam")
    db.session.commit()
    pending_to_rejected = {"status_before": "pending", "status_after": "rejected"}
    assert _log(db) == [
        ("reject", moderator.id, second.id, reader.id, "Spam", pending_to_rejected),
        ("reject", moderator.id, first.id, reader.id, "Spam", pending_to_rejected),
    ]
    with pytest.raises(InvalidInput):
        moderation.decide_many([], moderator, "approve")
    with pytest.raises(InvalidInput):
        moderation.decide_many(range(1, moderation.MAX_BULK + 2), moderator, "approve")


def test_ban_and_unban_write_their_entries(app, db, reader, moderator):
    until = datetime(2099, 5, 1, tzinfo=UTC)
    moderation.ban(reader, moderator, " Spam ", until)
    moderation.unban(reader, moderator, "Served the time")
    moderation.ban(reader, moderator, "Again")
    moderation.unban(reader, moderator)
    db.session.commit()
    assert _log(db) == [
        ("ban", moderator.id, None, reader.id, "Spam", {"until": "2099-05-01T00:00:00+00:00"}),
        ("unban", moderator.id, None, reader.id, "Served the time", {}),
        ("ban", moderator.id, None, reader.id, "Again", {"until": None}),
        ("unban", moderator.id, None, reader.id, None, {}),
    ]
    with pytest.raises(Conflict):
        moderation.unban(reader, moderator)
    with pytest.raises(InvalidInput):
        moderation.ban(reader, moderator, "   ")
    db.session.rollback()
    assert len(_log(db)) == 4


# --- what the queue offers and shows ----------------------------------------------------


def test_the_queue_offers_the_decisions_that_make_sense(
    app, db, article, make_article, reader, moderator
):
    comment = submit(db, article, reader)
    assert moderation.offered_actions(comment) == ("reject", "feature")
    moderation.decide(comment, moderator, "feature")
    assert moderation.offered_actions(comment) == ("reject", "unfeature")
    moderation.decide(comment, moderator, "reject")
    assert moderation.offered_actions(comment) == ("approve",)
    held = submit(db, make_article(comments="premoderated"), reader, "held")
    assert moderation.offered_actions(held) == ("approve", "reject")
    [item] = moderation.queue("pending")[0]
    assert item.actions == ("approve", "reject")


def test_a_decided_comment_shows_as_the_queue_shows_it(
    app, db, article, reader, moderator, make_user
):
    from webapp.api.serializers import queue_item_json

    parent = submit(db, article, moderator, "The parent")
    comment = comments.submit(article, reader, "Reported reply", parent_id=parent.id)
    comments.flag(comment, make_user(), "spam", "Same text everywhere")
    comments.flag(comment, make_user(), "abuse")
    comments.flag(comment, make_user(), "spam")
    db.session.commit()
    [listed] = moderation.queue("reported")[0]
    db.session.expire_all()
    [alone] = moderation.queue_items([db.session.get(Comment, comment.id)])
    assert queue_item_json(alone) == queue_item_json(listed)
    assert alone.flags == [("spam", 2), ("abuse", 1)]
    assert alone.notes == [("spam", "Same text everywhere")] and alone.open_reports == 3
    assert alone.parent is not None and alone.parent.id == parent.id


def test_showing_queue_items_and_log_entries_asks_the_database_nothing(
    app, db, article, reader, moderator, make_user
):
    from webapp.api.serializers import action_json, queue_item_json

    parent = submit(db, article, moderator, "The parent")
    comment = comments.submit(article, reader, "Reported reply", parent_id=parent.id)
    comments.flag(comment, make_user(), "spam", "A note")
    moderation.ban(make_user(), moderator, "Spam")
    db.session.commit()
    db.session.expire_all()
    items = moderation.queue("reported")[0]
    db.session.expire_all()
    decided = moderation.queue_items([db.session.get(Comment, comment.id)])
    entries = moderation.audit_log()[0]
    statements = []

    def record(*args):
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        for item in [*items, *decided]:
            queue_item_json(item)
        for entry in entries:
            action_json(entry)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements == []
