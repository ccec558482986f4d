"""The site search's index of articles, kept in step with them by the database itself.

- PostgreSQL: ``articles.search_document``, a ``tsvector`` (title weighted A, summary
  B, body C, English stemming) that a BEFORE trigger sets on every insert and on every
  change of those columns, with a GIN index (``ix_articles_search_document``).
- SQLite: an FTS5 table, ``articles_search``, over the articles' title, summary and
  body (external content: it stores only the index, the text stays in ``articles``),
  kept in step by AFTER triggers; ``articles.search_document`` stays NULL there.

The statements are attached to the metadata so ``create_all`` installs them; the
migration a7c9e1f3b5d8 installs the same, word for word (tests/test_migrations.py
compares the triggers). Alembic reflects the FTS5 table and its shadow tables as
tables the models lack: ``include_name`` leaves them out of ``db check``.
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.models.base import Base
from webapp.models.triggers import TriggerSet

#: The FTS5 table (SQLite) and the prefix of the shadow tables FTS5 makes beside it.
FTS_TABLE = "articles_search"

# Plain strings (no formatting): the same words as the migration's.
SQLITE_CREATE_TABLE = (
    "CREATE VIRTUAL TABLE articles_search USING fts5(title, summary, body, content='articles', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
)

TRIGGERS = TriggerSet(
    create={
        "sqlite": (
            SQLITE_CREATE_TABLE,
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
        ),
        "postgresql": (
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
        ),
    },
    drop={
        "sqlite": (
            "DROP TRIGGER IF EXISTS articles_search_insert",
            "DROP TRIGGER IF EXISTS articles_search_delete",
            "DROP TRIGGER IF EXISTS articles_search_update",
            "DROP TABLE IF EXISTS articles_search",
        ),
        "postgresql": (
            "DROP TRIGGER IF EXISTS articles_search_document ON articles",
            "DROP FUNCTION IF EXISTS articles_search_document()",
        ),
    },
)
TRIGGERS.attach(Base.metadata)
# The FTS5 table is no table of the metadata: drop_all leaves it, so drop it too.
sa.event.listen(
    Base.metadata,
    "after_drop",
    sa.DDL("DROP TABLE IF EXISTS articles_search").execute_if(dialect="sqlite"),
)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's autogenerate (``db check``): leave out the FTS5 table and its
    shadow tables, which no model describes."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))
