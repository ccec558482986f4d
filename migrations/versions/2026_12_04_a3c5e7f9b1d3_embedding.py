"""Embedding Pulse in other sites (issue 22): registered sites, threads by URL, host
sign-in.

``articles.listed`` is false for the thread a host page's first view makes: public, but
in none of Pulse's own lists. Every existing article is listed.

Revision ID: a3c5e7f9b1d3
Revises: f2b4c6d8e0a2
Create Date: 2026-12-04 10:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c5e7f9b1d3"
down_revision = "f2b4c6d8e0a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embed_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("create_on_first_view", sa.Boolean(), nullable=False),
        sa.Column("comment_mode", sa.String(length=16), nullable=False),
        sa.Column("poll_allow_anonymous", sa.Boolean(), nullable=False),
        sa.Column("poll_results_visibility", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_embed_sites_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            "comment_mode IN ('open', 'premoderated', 'closed')",
            name=op.f("ck_embed_sites_comment_mode"),
        ),
        sa.CheckConstraint(
            "poll_results_visibility IN ('always', 'after_vote', 'after_close')",
            name=op.f("ck_embed_sites_poll_results_visibility"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embed_sites")),
    )
    op.create_index("ix_embed_sites_created_by_id", "embed_sites", ["created_by_id"])
    op.create_table(
        "embed_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_embed_threads_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["embed_sites.id"],
            name=op.f("fk_embed_threads_site_id_embed_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embed_threads")),
        sa.UniqueConstraint("site_id", "key", name=op.f("uq_embed_threads_site_id_key")),
    )
    op.create_index("ix_embed_threads_article_id", "embed_threads", ["article_id"])
    op.create_table(
        "external_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["embed_sites.id"],
            name=op.f("fk_external_identities_site_id_embed_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_external_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identities")),
        sa.UniqueConstraint(
            "site_id", "subject", name=op.f("uq_external_identities_site_id_subject")
        ),
    )
    op.create_index("ix_external_identities_user_id", "external_identities", ["user_id"])
    op.create_table(
        "used_embed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_used_embed_tokens")),
        sa.UniqueConstraint("token_key", name=op.f("uq_used_embed_tokens_token_key")),
    )
    op.create_index("ix_used_embed_tokens_expires_at", "used_embed_tokens", ["expires_at"])
    # A constant default: PostgreSQL adds the column without rewriting the table, and
    # SQLite's ADD COLUMN takes it as is.
    op.add_column(
        "articles",
        sa.Column("listed", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("articles", "listed")
    else:
        # SQLite drops a column in place (3.35+); a batch copy of the table would take
        # the triggers on articles with it.
        op.execute("ALTER TABLE articles DROP COLUMN listed")
    op.drop_index("ix_used_embed_tokens_expires_at", table_name="used_embed_tokens")
    op.drop_table("used_embed_tokens")
    op.drop_index("ix_external_identities_user_id", table_name="external_identities")
    op.drop_table("external_identities")
    op.drop_index("ix_embed_threads_article_id", table_name="embed_threads")
    op.drop_table("embed_threads")
    op.drop_index("ix_embed_sites_created_by_id", table_name="embed_sites")
    op.drop_table("embed_sites")
