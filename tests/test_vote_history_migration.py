"""The vote history revision (c9e1a3b5d7f9) gives every vote stored before it one
first-vote row, at the vote's creation and for the answer it holds, set aside when the
vote is; its triggers then record moves; downgrading drops the history and them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import empty_database_url  # noqa: F401
from webapp import create_app

BEFORE = "b8d0f2a4c6e8"
AT = "c9e1a3b5d7f9"
CAST = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MOVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WHEN = sa.DateTime(timezone=True)


def _run(connection: sa.Connection, sql: str, **values) -> None:
    statement = sa.text(sql)
    for name in ("at", "later"):
        if f":{name}" in sql:
            statement = statement.bindparams(sa.bindparam(name, type_=WHEN))
    connection.execute(statement, values)


def _history(connection: sa.Connection) -> list[tuple]:
    rows = connection.execute(
        sa.text(
            "SELECT vote_id, poll_id, from_option_id, to_option_id, signed_in, set_aside, "
            "changed_at FROM vote_changes ORDER BY id"
        )
    ).all()
    return [
        (vote, poll, source, target, bool(signed_in), bool(set_aside), str(at)[:19])
        for vote, poll, source, target, signed_in, set_aside, at in rows
    ]


def test_the_backfill_gives_each_vote_a_first_vote_row_and_the_triggers_take_over(
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
            _run(
                connection,
                "INSERT INTO users (id, email, display_name, password_hash, role, created_at) "
                "VALUES (1, 'u1@example.org', 'U', 'x', 'reader', :at)",
                at=CAST,
            )
            _run(
                connection,
                "INSERT INTO articles (id, slug, title, summary, body, html, status, "
                "comment_mode, author_id, created_at, updated_at) VALUES "
                "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at)",
                at=CAST,
            )
            _run(
                connection,
                "INSERT INTO polls (id, article_id, question, results_visibility, "
                "allow_anonymous, created_at) VALUES (1, 1, 'Q?', 'always', true, :at)",
                at=CAST,
            )
            _run(
                connection,
                "INSERT INTO poll_options (id, poll_id, position, label, vote_count) "
                "VALUES (1, 1, 0, 'Yes', 0), (2, 1, 1, 'No', 0)",
            )
            # An account's vote for Yes, an anonymous one for No that moved before the
            # history began (its move is lost), and a vote set aside.
            _run(
                connection,
                "INSERT INTO votes (id, poll_id, option_id, voter_key, user_id, created_at, "
                "updated_at, set_aside_at) VALUES (1, 1, 1, 'u:1', 1, :at, :at, NULL), "
                "(2, 1, 2, 'a:x', NULL, :at, :later, NULL), "
                "(3, 1, 1, 'a:y', NULL, :at, :at, :later)",
                at=CAST,
                later=MOVED,
            )

        result = runner.invoke(args=["db", "upgrade", AT])
        assert result.exit_code == 0, result.output
        first = str(CAST.replace(tzinfo=None))[:19]
        with engine.begin() as connection:
            assert _history(connection) == [
                (1, 1, None, 1, True, False, first),
                (2, 1, None, 2, False, False, first),
                (3, 1, None, 1, False, True, first),
            ]
            # From now on the triggers record a move, and a restore.
            _run(
                connection,
                "UPDATE votes SET option_id = 2, updated_at = :at WHERE id = 1",
                at=MOVED,
            )
            _run(connection, "UPDATE votes SET set_aside_at = NULL WHERE id = 3")
            rows = _history(connection)
            assert rows[3] == (1, 1, 1, 2, True, False, str(MOVED.replace(tzinfo=None))[:19])
            assert rows[2][5] is False  # vote 3 restored: its history counts again

        result = runner.invoke(args=["db", "downgrade", BEFORE])
        assert result.exit_code == 0, result.output
        assert "vote_changes" not in sa.inspect(engine).get_table_names()
        with engine.begin() as connection:
            # No trigger is left writing to the dropped table.
            _run(
                connection,
                "UPDATE votes SET option_id = 1, updated_at = :at WHERE id = 1",
                at=MOVED,
            )
            connection.execute(sa.text("DELETE FROM votes WHERE id = 2"))
    finally:
        engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
