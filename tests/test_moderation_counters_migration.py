"""The moderation counters' revision (d5e1a7c3b9f2) on a site that already has comments
and reports: upgrading sets the queue counts and each comment's open reports from the
rows, the triggers keep them from then on, and downgrading takes it all away and
leaves the older triggers on comments working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import empty_database_url  # noqa: F401 (fixture)
from webapp import create_app

BEFORE = "c04693f9a0b0"
REVISION = "d5e1a7c3b9f2"
WHEN = sa.DateTime(timezone=True)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def _site(connection: sa.Connection) -> dict[str, int]:
    """Users, an article and comments in every queue, with reports; the ids by name."""
    for user_id in (1, 2, 3, 4):
        connection.execute(
            sa.text(
                "INSERT INTO users (id, email, display_name, password_hash, role, created_at, "
                "session_generation) VALUES (:id, :email, 'U', 'x', 'reader', :at, 0)"
            ).bindparams(sa.bindparam("at", type_=WHEN)),
            {"id": user_id, "email": f"u{user_id}@example.org", "at": LONG_AGO},
        )
    connection.execute(
        sa.text(
            "INSERT INTO articles (id, slug, title, summary, body, html, status, "
            "comment_mode, author_id, created_at, updated_at, comment_count) VALUES "
            "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at, 0)"
        ).bindparams(sa.bindparam("at", type_=WHEN)),
        {"at": LONG_AGO},
    )
    insert = sa.text(
        "INSERT INTO comments (id, article_id, author_id, depth, body, html, status, "
        "created_at, score, flag_count, reply_count, reasons_held, moderated_at, "
        "reported_at, deleted_at) VALUES (:id, 1, 1, 0, 'c', 'c', :status, :at, 0, 0, 0, "
        "'[]', :moderated, :reported, :deleted)"
    ).bindparams(
        *(sa.bindparam(name, type_=WHEN) for name in ("at", "moderated", "reported", "deleted"))
    )
    decided = LONG_AGO + timedelta(days=2)
    rows = {
        # name: (status, moderated_at, reported_at, deleted_at)
        "held": ("pending", None, None, None),
        "held_reported": ("pending", None, LONG_AGO + timedelta(days=1), None),
        "rejected": ("rejected", decided, None, None),
        "approved": ("published", decided, None, None),
        "approved_reported_again": ("published", decided, decided + timedelta(days=1), None),
        "reported": ("published", None, LONG_AGO + timedelta(days=1), None),
        "deleted_held": ("pending", None, None, LONG_AGO),
        "plain": ("published", None, None, None),
    }
    ids = {}
    for number, (name, (status, moderated, reported, deleted)) in enumerate(rows.items(), 1):
        connection.execute(
            insert,
            {
                "id": number,
                "status": status,
                "at": LONG_AGO,
                "moderated": moderated,
                "reported": reported,
                "deleted": deleted,
            },
        )
        ids[name] = number
    flag = sa.text(
        "INSERT INTO comment_flags (comment_id, user_id, reason, weight, created_at) "
        "VALUES (:comment, :user, 'spam', 1, :at)"
    ).bindparams(sa.bindparam("at", type_=WHEN))
    day = timedelta(days=1)
    for name, user, at in (
        ("held_reported", 2, LONG_AGO + day),
        ("held_reported", 3, LONG_AGO + day),
        ("reported", 2, LONG_AGO + day),
        ("reported", 3, LONG_AGO + day),
        ("reported", 4, LONG_AGO + day),
        ("approved_reported_again", 2, LONG_AGO + day),  # before the decision
        ("approved_reported_again", 3, decided + day),  # after it
    ):
        connection.execute(flag, {"comment": ids[name], "user": user, "at": at})
    return ids


def test_upgrading_fills_the_counters_from_the_rows_and_downgrading_removes_them(
    empty_database_url,  # noqa: F811
):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", BEFORE])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            ids = _site(connection)
        result = runner.invoke(args=["db", "upgrade", REVISION])
        assert result.exit_code == 0, result.output
        counts = "SELECT pending, reported, rejected, approved FROM moderation_queue_counts"
        with engine.begin() as connection:
            assert connection.execute(sa.text(counts)).one() == (2, 3, 1, 2)
            open_reports = dict(
                connection.execute(sa.text("SELECT id, open_reports FROM comments")).all()
            )
            assert open_reports == {
                **dict.fromkeys(ids.values(), 0),
                ids["held_reported"]: 2,
                ids["reported"]: 3,
                ids["approved_reported_again"]: 1,
            }
            # From now on the triggers keep them: the held, reported one is rejected.
            connection.execute(
                sa.text(
                    "UPDATE comments SET status = 'rejected', reported_at = NULL, "
                    "moderated_at = :now WHERE id = :id"
                ).bindparams(sa.bindparam("now", type_=WHEN)),
                {"now": datetime.now(UTC), "id": ids["held_reported"]},
            )
        # (On PostgreSQL the counts move when the change commits.)
        with engine.begin() as connection:
            assert connection.execute(sa.text(counts)).one() == (1, 2, 2, 2)
            assert (
                connection.scalar(
                    sa.text("SELECT open_reports FROM comments WHERE id = :id"),
                    {"id": ids["held_reported"]},
                )
                == 0
            )
        result = runner.invoke(args=["db", "downgrade", BEFORE])
        assert result.exit_code == 0, result.output
        assert "moderation_queue_counts" not in sa.inspect(engine).get_table_names()
        columns = {c["name"] for c in sa.inspect(engine).get_columns("comments")}
        assert "open_reports" not in columns
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("comments")}
        assert {"ix_comments_status_created_at", "ix_comments_reported_queue"} <= indexes
        with engine.begin() as connection:
            # The article's comment count is still kept by its (older) triggers.
            before = connection.scalar(sa.text("SELECT comment_count FROM articles"))
            connection.execute(sa.text("UPDATE comments SET status = 'published'"))
            after = connection.scalar(sa.text("SELECT comment_count FROM articles"))
            assert after - before == 3  # the held and the two rejected; not the deleted one
    finally:
        engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
