"""The poll integrity revision (f1c3e5a7b9d0) counts each option's signed-in votes
from the rows and installs the triggers that keep set-aside votes out of the tallies,
the rollups and comment tone; downgrading first restores every set-aside vote, so the
old meaning (every stored vote counted) holds again, then puts the old triggers back."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import _triggers, empty_database_url  # noqa: F401
from webapp import create_app

BEFORE = "e8f2b4d6a0c1"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _run(connection: sa.Connection, sql: str, **values) -> None:
    statement = sa.text(sql)
    if ":at" in sql:
        statement = statement.bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True)))
    connection.execute(statement, values)


def _figures(connection: sa.Connection, *columns: str) -> list[tuple]:
    return [
        tuple(row)
        for row in connection.execute(
            sa.text(f"SELECT {', '.join(columns)} FROM poll_options ORDER BY id")
        )
    ]


def _tone(connection: sa.Connection) -> dict[int, int]:
    return dict(
        connection.execute(
            sa.text("SELECT option_id, comments FROM article_tone_counts WHERE comments <> 0")
        ).all()
    )


def _rolled(connection: sa.Connection) -> dict[int, int]:
    return dict(
        connection.execute(
            sa.text(
                "SELECT option_id, sum(votes_cast - votes_withdrawn) FROM poll_daily_tallies "
                "GROUP BY option_id"
            )
        ).all()
    )


def test_the_revision_counts_signed_in_votes_and_its_downgrade_counts_set_aside_ones_again(
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
            for user_id in (1, 2, 3):
                _run(
                    connection,
                    "INSERT INTO users (id, email, display_name, password_hash, role, "
                    "created_at) VALUES (:id, :email, 'U', 'x', 'reader', :at)",
                    id=user_id,
                    email=f"u{user_id}@example.org",
                    at=AT,
                )
            _run(
                connection,
                "INSERT INTO articles (id, slug, title, summary, body, html, status, "
                "comment_mode, author_id, created_at, updated_at) VALUES "
                "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at)",
                at=AT,
            )
            _run(
                connection,
                "INSERT INTO polls (id, article_id, question, results_visibility, "
                "allow_anonymous, created_at) VALUES (1, 1, 'Q?', 'always', true, :at)",
                at=AT,
            )
            _run(
                connection,
                "INSERT INTO poll_options (id, poll_id, position, label, vote_count) "
                "VALUES (1, 1, 0, 'Yes', 0), (2, 1, 1, 'No', 0)",
            )
            # Through the old triggers: two accounts' votes for Yes, one anonymous No.
            _run(
                connection,
                "INSERT INTO votes (poll_id, option_id, voter_key, user_id, created_at, "
                "updated_at) VALUES (1, 1, 'u:2', 2, :at, :at), (1, 1, 'u:3', 3, :at, :at), "
                "(1, 2, 'a:x', NULL, :at, :at)",
                at=AT,
            )
            _run(
                connection,
                "INSERT INTO comments (article_id, author_id, depth, body, html, status, "
                "created_at, score, flag_count, reply_count, reasons_held, sentiment, "
                "sentiment_label) VALUES (1, 2, 0, 'c', 'c', 'published', :at, 0, 0, 0, "
                "'[]', 0.5, 'positive')",
                at=AT,
            )
            assert _tone(connection) == {1: 1}

        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        counts = ("vote_count", "signed_in_count", "set_aside_count")
        with engine.begin() as connection:
            assert _figures(connection, *counts) == [(2, 2, 0), (1, 0, 0)]
            # The new triggers: reader 2's vote and the anonymous one set aside.
            _run(
                connection,
                "UPDATE votes SET set_aside_at = :at WHERE voter_key IN ('u:2', 'a:x')",
                at=AT,
            )
            assert _figures(connection, *counts) == [(1, 1, 1), (0, 0, 1)]
            assert _rolled(connection) == {1: 1, 2: 0}
            assert _tone(connection) == {0: 1}
        with app.app_context():
            for command in (["polls", "recount"], ["sentiment", "recount", "--check"]):
                result = runner.invoke(args=command)
                assert result.exit_code == 0 and "nothing to fix" in result.output, result.output

        result = runner.invoke(args=["db", "downgrade", BEFORE])
        assert result.exit_code == 0, result.output
        with engine.begin() as connection:
            # Every stored vote counts again, in the tallies, the rollups and tone.
            assert _figures(connection, "vote_count") == [(2,), (1,)]
            assert _rolled(connection) == {1: 2, 2: 1}
            assert _tone(connection) == {1: 1}
            # The old triggers are back and keep them.
            _run(
                connection,
                "UPDATE votes SET option_id = 2, updated_at = :at WHERE voter_key = 'u:2'",
                at=AT,
            )
            assert _figures(connection, "vote_count") == [(1,), (2,)]
            assert _tone(connection) == {2: 1}
        triggers = _triggers(empty_database_url)
        assert not [sql for sql in triggers.values() if "set_aside" in sql]
    finally:
        engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
