"""The moderation counters under concurrent moderators and readers, on SQLite and
PostgreSQL: bulk decisions that each move two queues, in opposite orders, while readers
report comments, all succeed (no deadlock between the counters) and leave the queue
counts and open reports equal to the rows."""

from __future__ import annotations

from tests.test_concurrency import _run_together
from webapp.services import comments, moderation


def test_concurrent_bulk_decisions_and_reports_keep_the_counts_exact(
    app, db, make_article, make_user, make_api
):
    article = make_article()
    held_article = make_article(comments="premoderated")
    authors = [make_user() for _ in range(3)]
    held = [comments.submit(held_article, authors[n % 3], f"Held {n}.") for n in range(6)]
    published = [comments.submit(article, authors[n % 3], f"Said {n}.") for n in range(12)]
    db.session.commit()
    # Six comments in the Reported queue before the burst, six left for the readers.
    for comment in published[:6]:
        comments.flag(comment, make_user(), "spam")
    db.session.commit()
    assert moderation.queue_counts() == {
        "pending": 6,
        "reported": 6,
        "rejected": 0,
        "approved": 0,
    }
    moderators = []
    for _ in range(6):
        client = make_api()
        client.login(make_user(role="moderator"))
        moderators.append(client)
    readers = []
    for _ in range(6):
        client = make_api()
        client.login(make_user())
        readers.append(client)
    # Moderator i decides on a held and a reported comment together: the even ones the
    # held one first, the odd ones the reported one first; approving or rejecting.
    pairs = [
        (held[i].id, published[i].id) if i % 2 == 0 else (published[i].id, held[i].id)
        for i in range(6)
    ]
    actions = ["approve", "reject", "reject", "approve", "approve", "reject"]
    to_report = [c.id for c in published[6:]]
    db.session.rollback()

    def act(i: int) -> int:
        if i < 6:
            return (
                moderators[i]
                .post("/api/v1/moderation/comments", {"ids": list(pairs[i]), "action": actions[i]})
                .status_code
            )
        return (
            readers[i - 6]
            .post(f"/api/v1/comments/{to_report[i - 6]}/flags", {"reason": "abuse"})
            .status_code
        )

    statuses = _run_together(12, act)
    assert statuses == [200] * 6 + [201] * 6
    db.session.expire_all()
    # Each decision took a held and a reported comment out of their queues; the
    # readers' reports put six others in.
    assert moderation.queue_counts() == {
        "pending": 0,
        "reported": 6,
        "rejected": 6,
        "approved": 6,
    }
    assert moderation.counter_drift() == {}
    listed = {item.comment.id: item.open_reports for item in moderation.queue("reported")[0]}
    assert listed == dict.fromkeys(to_report, 1)
