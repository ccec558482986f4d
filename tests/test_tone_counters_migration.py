"""The tone counters' revision (e8f2b4d6a0c1) starts them from the rows already there,
and the triggers it installs keep them; downgrading removes them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import _tables, _triggers, empty_database_url  # noqa: F401
from webapp import create_app

BEFORE = "d5e1a7c3b9f2"


def test_the_tone_counters_revision_fills_them_from_the_rows(empty_database_url):  # noqa: F811
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", BEFORE])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(empty_database_url)
    when = sa.DateTime(timezone=True)
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    try:
        with engine.begin() as connection:

            def run(sql: str, **values) -> None:
                statement = sa.text(sql)
                if ":at" in sql:
                    statement = statement.bindparams(sa.bindparam("at", type_=when))
                connection.execute(statement, values)

            for user_id in (1, 2, 3):
                run(
                    "INSERT INTO users (id, email, display_name, password_hash, role, "
                    "created_at) VALUES (:id, :email, 'U', 'x', 'reader', :at)",
                    id=user_id,
                    email=f"u{user_id}@example.org",
                    at=at,
                )
            run(
                "INSERT INTO articles (id, slug, title, summary, body, html, status, "
                "comment_mode, author_id, created_at, updated_at) VALUES "
                "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at)",
                at=at,
            )
            run(
                "INSERT INTO polls (id, article_id, question, results_visibility, "
                "allow_anonymous, created_at) VALUES (1, 1, 'Q?', 'always', false, :at)",
                at=at,
            )
            run(
                "INSERT INTO poll_options (id, poll_id, position, label, vote_count) "
                "VALUES (1, 1, 0, 'Yes', 0), (2, 1, 1, 'No', 0)"
            )
            run(
                "INSERT INTO votes (poll_id, option_id, voter_key, user_id, created_at, "
                "updated_at) VALUES (1, 2, 'u:2', 2, :at, :at), (1, 1, 'a:x', NULL, :at, :at)",
                at=at,
            )
            for author, status, score, label in (
                (1, "published", 0.5, "positive"),
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
                    at=at,
                    score=score,
                    label=label,
                )
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with engine.begin() as connection:
            tone = connection.execute(
                sa.text(
                    "SELECT option_id, comments, positive, negative, scored, total "
                    "FROM article_tone_counts ORDER BY option_id"
                )
            ).all()
            days = connection.execute(
                sa.text("SELECT day, comments, scored, total FROM article_comment_days")
            ).all()
        assert [tuple(row) for row in tone] == [
            (0, 1, 1, 0, 1, 500_000_000_000),
            (2, 2, 0, 1, 1, -250_000_000_000),
        ]
        assert [(str(day)[:10], *rest) for day, *rest in days] == [
            ("2026-03-01", 3, 2, 250_000_000_000)
        ]
        with app.app_context():
            result = runner.invoke(args=["sentiment", "recount", "--check"])
        assert result.exit_code == 0, result.output
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE comments SET status = 'published'"))
            connection.execute(sa.text("UPDATE votes SET option_id = 1 WHERE user_id = 2"))
        with app.app_context():
            result = runner.invoke(args=["sentiment", "recount", "--check"])
        assert result.exit_code == 0, result.output

        result = runner.invoke(args=["db", "downgrade", BEFORE])
        assert result.exit_code == 0, result.output
        assert not {"article_tone_counts", "article_comment_days"} & _tables(empty_database_url)
        assert not [name for name in _triggers(empty_database_url) if "tone" in name]
    finally:
        engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
