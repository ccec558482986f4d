"""A news site's basics (issue 19): lead images, scheduled publication, site search.

Scheduled publication needs no schema: an article published for a time ahead has
status "published" and a published_at still to come, and every read compares it with
now (ix_articles_status_published_at serves those reads).

Lead images: five nullable columns on articles. Site search: on PostgreSQL a tsvector
column set by a trigger, with a GIN index; on SQLite an FTS5 table over the articles
kept in step by triggers. The statements are those of webapp/models/search_index.py,
word for word (tests/test_migrations.py compares them); existing articles are indexed
here.

Revision ID: a7c9e1f3b5d8
Revises: f6a8b0c2d4e6
Create Date: 2026-12-04 07:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "a7c9e1f3b5d8"
down_revision = "f6a8b0c2d4e6"
branch_labels = None
depends_on = None

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE articles_search USING fts5(title, summary, body, content='articles', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_search_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_search(rowid, title, summary, body) "
    "VALUES (new.id, new.title, new.summary, new.body); END",
    "CREATE TRIGGER articles_search_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_search(articles_search, rowid, title, summary, body) "
    "VALUES ('delete', old.id, old.title, old.summary, old.body); END",
    "CREATE TRIGGER articles_search_update AFTER UPDATE OF title, summary, body "
    "ON articles BEGIN "
    "INSERT INTO articles_search(articles_search, rowid, title, summary, body) "
    "VALUES ('delete', old.id, old.title, old.summary, old.body); "
    "INSERT INTO articles_search(rowid, title, summary, body) "
    "VALUES (new.id, new.title, new.summary, new.body); END",
    # Index the articles already there.
    "INSERT INTO articles_search(articles_search) VALUES ('rebuild')",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS articles_search_insert",
    "DROP TRIGGER IF EXISTS articles_search_delete",
    "DROP TRIGGER IF EXISTS articles_search_update",
    "DROP TABLE IF EXISTS articles_search",
)
POSTGRESQL_CREATE = (
    "CREATE FUNCTION articles_search_document() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "NEW.search_document := "
    "setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(NEW.body, '')), 'C'); "
    "RETURN NEW; "
    "END $$",
    "CREATE TRIGGER articles_search_document BEFORE INSERT OR UPDATE OF title, summary, "
    "body ON articles FOR EACH ROW EXECUTE FUNCTION articles_search_document()",
    # Index the articles already there (the trigger sets the column).
    "UPDATE articles SET title = title",
)
NEW_COLUMNS = (
    "search_document",
    "lead_image_alt",
    "lead_image_height",
    "lead_image_width",
    "lead_image_widths",
    "lead_image_key",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS articles_search_document ON articles",
    "DROP FUNCTION IF EXISTS articles_search_document()",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("articles", sa.Column("lead_image_key", sa.String(length=200), nullable=True))
    op.add_column("articles", sa.Column("lead_image_widths", sa.String(length=60), nullable=True))
    op.add_column("articles", sa.Column("lead_image_width", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("lead_image_height", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("lead_image_alt", sa.String(length=300), nullable=True))
    op.add_column(
        "articles",
        sa.Column(
            "search_document",
            sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_articles_search_document",
        "articles",
        ["search_document"],
        unique=False,
        postgresql_using="gin",
    )
    for statement in POSTGRESQL_CREATE if dialect == "postgresql" else SQLITE_CREATE:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    op.drop_index("ix_articles_search_document", table_name="articles")
    for column in NEW_COLUMNS:
        # Not a batch copy of the table: the comments' triggers name it, and SQLite
        # (3.35 and later) drops a column in place.
        op.execute(f"ALTER TABLE articles DROP COLUMN {column}")
