"""The Alembic revisions and the models must describe the same schema, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_SECRET, _postgres_base_url, _with_schema
from webapp import create_app


@pytest.fixture
def empty_database_url(backend, tmp_path) -> Iterator[str]:
    if backend.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    schema = f"pulse_migrations_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_postgres_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield _with_schema(_postgres_base_url(), schema)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        # SQLite's search index (FTS5: webapp/models/search_index.py) is no model's table.
        names = sa.inspect(engine).get_table_names()
        return {name for name in names if not name.startswith("articles_search")}
    finally:
        engine.dispose()


def _triggers(url: str) -> dict[str, str]:
    """Every trigger (and, on PostgreSQL, function) in the database, by name: its
    definition as the database itself prints it, whitespace folded, schema left out."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                rows = connection.execute(
                    sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
            else:
                schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
                rows = connection.execute(
                    sa.text(
                        "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                        "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
                        "AND c.relnamespace = CAST(current_schema() AS regnamespace) "
                        "UNION ALL SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                        "WHERE p.pronamespace = CAST(current_schema() AS regnamespace)"
                    )
                ).all()
                rows = [(name, sql.replace(f"{schema}.", "")) for name, sql in rows]
    finally:
        engine.dispose()
    return {name: " ".join(sql.split()) for name, sql in rows}


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_base(backend, empty_database_url):
    from webapp.models import Base

    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _tables(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"}

    # `db check` fails when autogenerate finds any difference between models and schema.
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    # Autogenerate does not see triggers: compare them with a database made from the
    # models (the test database), definition by definition.
    migrated = _triggers(empty_database_url)
    assert migrated == _triggers(backend.url)
    assert any("votes" in definition for definition in migrated.values())
    assert any("comment_count" in definition for definition in migrated.values())
    assert any("last_rejected_at" in definition for definition in migrated.values())
    assert any("article_tone_counts" in definition for definition in migrated.values())
    assert any("sentiment.refine" in definition for definition in migrated.values())

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert _tables(empty_database_url) == {"alembic_version"}
    assert _triggers(empty_database_url) == {}

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()


def test_check_notices_a_model_the_migrations_lack(empty_database_url):
    """The guard itself works: a table only in the models makes `db check` fail."""
    from webapp.models import Base

    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    extra = sa.Table(
        "not_migrated_yet", Base.metadata, sa.Column("id", sa.Integer, primary_key=True)
    )
    try:
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code != 0
    finally:
        Base.metadata.remove(extra)
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()


def test_the_comment_triggers_revision_recounts_and_fills_the_last_rejections(
    empty_database_url,
):
    """Data written before the comment triggers: upgrading sets every article's count
    from its rows (even a drifted one) and every author's last rejection, and the
    triggers keep them from then on."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "7c1e2f9a4b30"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(empty_database_url)
    when = sa.DateTime(timezone=True)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    rejected_at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            insert_user = sa.text(
                "INSERT INTO users (id, email, display_name, password_hash, role, created_at) "
                "VALUES (:id, :email, 'U', 'x', 'reader', :at)"
            ).bindparams(sa.bindparam("at", type_=when))
            for user_id in (1, 2):
                connection.execute(
                    insert_user, {"id": user_id, "email": f"u{user_id}@example.org", "at": long_ago}
                )
            # comment_count 7 has drifted: two comments count.
            connection.execute(
                sa.text(
                    "INSERT INTO articles (id, slug, title, summary, body, html, status, "
                    "comment_mode, author_id, created_at, updated_at, comment_count) VALUES "
                    "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at, 7)"
                ).bindparams(sa.bindparam("at", type_=when)),
                {"at": long_ago},
            )
            insert_comment = sa.text(
                "INSERT INTO comments (article_id, author_id, depth, body, html, status, "
                "created_at, score, flag_count, reply_count, reasons_held, moderated_at) "
                "VALUES (1, 1, 0, 'c', 'c', :status, :at, 0, 0, 0, '[]', :moderated)"
            ).bindparams(sa.bindparam("at", type_=when), sa.bindparam("moderated", type_=when))
            for status, moderated in (
                ("published", None),
                ("published", None),
                ("pending", None),
                ("rejected", rejected_at),
                ("rejected", rejected_at - timedelta(days=30)),
            ):
                connection.execute(
                    insert_comment, {"status": status, "at": long_ago, "moderated": moderated}
                )
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with engine.begin() as connection:
            assert connection.scalar(sa.text("SELECT comment_count FROM articles")) == 2
            last = dict(connection.execute(sa.text("SELECT id, last_rejected_at FROM users")).all())
            assert last[2] is None
            assert str(last[1]).startswith("2026-11-01 10:00:00")
            connection.exec_driver_sql("UPDATE comments SET status = 'published'")
            assert connection.scalar(sa.text("SELECT comment_count FROM articles")) == 5
    finally:
        engine.dispose()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()


def test_the_sessions_revision_puts_comments_with_open_reports_in_the_reported_queue(
    empty_database_url,
):
    """Reports written before one report was enough for the queue: upgrading marks a
    comment reported from its first report since the last decision, and leaves alone
    comments reviewed after their reports, rejected ones and unreported ones."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": empty_database_url}
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "4cbd1791234c"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(empty_database_url)
    when = sa.DateTime(timezone=True)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    first_report = datetime(2026, 11, 2, 9, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, display_name, password_hash, role, created_at) "
                    "VALUES (1, 'u1@example.org', 'U', 'x', 'reader', :at)"
                ).bindparams(sa.bindparam("at", type_=when)),
                {"at": long_ago},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO articles (id, slug, title, summary, body, html, status, "
                    "comment_mode, author_id, created_at, updated_at) VALUES "
                    "(1, 'a', 'A', '', 'b', 'b', 'published', 'open', 1, :at, :at)"
                ).bindparams(sa.bindparam("at", type_=when)),
                {"at": long_ago},
            )
            insert_comment = sa.text(
                "INSERT INTO comments (id, article_id, author_id, depth, body, html, status, "
                "created_at, score, flag_count, reply_count, reasons_held, moderated_at) "
                "VALUES (:id, 1, 1, 0, 'c', 'c', :status, :at, 0, 0, 0, '[]', :moderated)"
            ).bindparams(sa.bindparam("at", type_=when), sa.bindparam("moderated", type_=when))
            # 1: two open reports; 2: approved after its report; 3: rejected; 4: no report.
            for comment_id, status, moderated in (
                (1, "published", None),
                (2, "published", first_report + timedelta(days=1)),
                (3, "rejected", None),
                (4, "published", None),
            ):
                connection.execute(
                    insert_comment,
                    {"id": comment_id, "status": status, "at": long_ago, "moderated": moderated},
                )
            insert_flag = sa.text(
                "INSERT INTO comment_flags (comment_id, user_id, reason, created_at) "
                "VALUES (:comment, 1, 'spam', :at)"
            ).bindparams(sa.bindparam("at", type_=when))
            connection.execute(insert_flag, {"comment": 1, "at": first_report + timedelta(hours=1)})
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, display_name, password_hash, role, created_at) "
                    "VALUES (2, 'u2@example.org', 'V', 'x', 'reader', :at)"
                ).bindparams(sa.bindparam("at", type_=when)),
                {"at": long_ago},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO comment_flags (comment_id, user_id, reason, created_at) "
                    "VALUES (1, 2, 'abuse', :at)"
                ).bindparams(sa.bindparam("at", type_=when)),
                {"at": first_report},
            )
            for comment_id in (2, 3):
                connection.execute(insert_flag, {"comment": comment_id, "at": first_report})
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with engine.begin() as connection:
            reported = dict(
                connection.execute(sa.text("SELECT id, reported_at FROM comments")).all()
            )
            weights = connection.execute(sa.text("SELECT DISTINCT weight FROM comment_flags"))
            assert [w for (w,) in weights] == [1]
    finally:
        engine.dispose()
    assert str(reported[1]).startswith("2026-11-02 09:00:00")
    assert reported[2] is None and reported[3] is None and reported[4] is None
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
