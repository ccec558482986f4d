"""A poll the host page described (issue 22): which threads' polls the host set.

``embed_threads.host_poll_digest`` is the SHA-256 of the poll as the host's signed
description last set it; None when the host never set one. A poll whose content no
longer matches was changed by an editor in Pulse and is theirs from then on.

Revision ID: c5e7a9b1d3f5
Revises: a3c5e7f9b1d3
Create Date: 2026-12-04 13:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5e7a9b1d3f5"
down_revision = "a3c5e7f9b1d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("embed_threads", sa.Column("host_poll_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("embed_threads") as batch:
        batch.drop_column("host_poll_digest")
