"""The tone trust revision (c3d5e7f9a1b3) fills the sums of squares from the rows, its
triggers keep them, and downgrading puts back the triggers as they were."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import _tables, _triggers, empty_database_url  # noqa: F401
from webapp import create_app

BEFORE = "b2c4d6e8f0a2"
THIS = "c3d5e7f9a1b3"


def _load(connection: sa.Connection) -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    when = sa.bindparam("at", type_=sa.DateTime(timezone=True))

    def run(sql: str, **values: object) -> None:
        statement = sa.text(sql)
        if ":at" in sql:
            statement = statement.bindparams(when)
        connection.execute(statement, {"at": at, **values})

    for user_id in (1, 2, 3):
        run(
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at) "
            "VALUES (:id, :email, 'U', 'x', 'reader', :at)",
            id=user_id,
            email=f"u{user_id}@example.org",
        )
    run(
        "INSERT INTO articles (id, slug, title, summary, body, html, status, comment_mode, "
        "author_id, created_at, updated_at) VALUES "
        "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at)"
    )
    run(
        "INSERT INTO polls (id, article_id, question, results_visibility, allow_anonymous, "
        "created_at) VALUES (1, 1, 'Q?', 'always', false, :at)"
    )
    run(
        "INSERT INTO poll_options (id, poll_id, position, label, vote_count) "
        "VALUES (1, 1, 0, 'Yes', 0), (2, 1, 1, 'No', 0)"
    )
    run(
        "INSERT INTO votes (poll_id, option_id, voter_key, user_id, created_at, updated_at) "
        "VALUES (1, 2, 'u:2', 2, :at, :at)"
    )
    for author, status, score, label in (
        (1, "published", 0.5, "positive"),
        (1, "published", -0.1, "negative"),
        (2, "published", -0.25, "negative"),
        (2, "published", None, None),
        (3, "pending", 0.9, "positive"),
    ):
        run(
            "INSERT INTO comments (article_id, author_id, depth, body, html, status, "
            "created_at, score, flag_count, reply_count, reasons_held, sentiment, "
            "sentiment_label) VALUES (1, :author, 0, 'c', 'c', :status, :at, 0, 0, 0, "
            "'[]', :score, :label)",
            author=author,
            status=status,
            score=score,
            label=label,
        )


def test_the_revision_fills_the_squares_and_downgrades_to_the_old_triggers(
    empty_database_url,  # noqa: F811
):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", BEFORE])
    assert result.exit_code == 0, result.output
    before = _triggers(empty_database_url)
    engine = sa.create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            _load(connection)
        result = runner.invoke(args=["db", "upgrade", THIS])
        assert result.exit_code == 0, result.output
        squares = "SELECT option_id, total_sq FROM article_tone_counts ORDER BY option_id"
        with engine.begin() as connection:
            filled = [tuple(row) for row in connection.execute(sa.text(squares))]
        # 0.5² + 0.1² for the author without a vote; 0.25² for the one who voted No.
        assert filled == [(0, 260_000_000_000), (2, 62_500_000_000)]
        with app.app_context():
            result = runner.invoke(args=["sentiment", "recount", "--check"])
        assert result.exit_code == 0, result.output

        # The new triggers move the squares with every kind of write.
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE comments SET status = 'published'"))
            connection.execute(sa.text("UPDATE comments SET sentiment = -0.5 WHERE id = 1"))
            connection.execute(sa.text("UPDATE votes SET option_id = 1 WHERE user_id = 2"))
            connection.execute(sa.text("DELETE FROM comments WHERE id = 2"))
        with engine.begin() as connection:
            moved = [tuple(row) for row in connection.execute(sa.text(squares))]
        assert moved == [(0, 250_000_000_000 + 810_000_000_000), (1, 62_500_000_000), (2, 0)]
        with app.app_context():
            result = runner.invoke(args=["sentiment", "recount", "--check"])
        assert result.exit_code == 0, result.output

        result = runner.invoke(args=["db", "downgrade", BEFORE])
        assert result.exit_code == 0, result.output
        assert _triggers(empty_database_url) == before
        assert "tone_corrections" not in _tables(empty_database_url)
        inspector_engine = sa.create_engine(empty_database_url)
        try:
            columns = {
                c["name"] for c in sa.inspect(inspector_engine).get_columns("article_tone_counts")
            }
        finally:
            inspector_engine.dispose()
        assert "total_sq" not in columns
        # The old triggers still count.
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE comments SET sentiment = 0.2 WHERE id = 1"))
        # (The app's models expect total_sq now: the row is read as it stands.)
        with engine.begin() as connection:
            total = connection.execute(
                sa.text("SELECT total FROM article_tone_counts WHERE option_id = 0")
            ).scalar_one()
        assert total == 200_000_000_000 + 900_000_000_000
    finally:
        engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
