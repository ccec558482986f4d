"""Topic words carry no valence (issue 17): the site-wide list editors extend.

- ``site_topic_words``: words that name a subject wherever they appear on the site
  (webapp/models/topic_words.py). A comment's tone is scored with them, and with its
  article's own title, poll and labels, carrying no valence
  (webapp/services/insights/topics.py).

It starts with three words that VADER rates as opinion but that news comments mostly
use in names: "united" (+1.8: the United Nations, States, Kingdom), "party" (+1.7:
a political party) and "security" (+1.4: the Security Council, security advisers).
Editors add and remove words on their page; downgrading drops the list.

Revision ID: a1b3c5d7e9f1
Revises: b4d6f8a0c2e4
Create Date: 2026-12-03 22:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1b3c5d7e9f1"
down_revision = "b4d6f8a0c2e4"
branch_labels = None
depends_on = None

STARTING_WORDS = ("party", "security", "united")


def upgrade() -> None:
    table = op.create_table(
        "site_topic_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_topic_words")),
        sa.UniqueConstraint("word", name=op.f("uq_site_topic_words_word")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(table, [{"word": word, "created_at": now} for word in STARTING_WORDS])


def downgrade() -> None:
    op.drop_table("site_topic_words")
