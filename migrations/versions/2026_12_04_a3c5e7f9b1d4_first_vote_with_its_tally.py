"""A first vote and its option's tally in one round trip (PostgreSQL).

``pulse_checked_first_vote`` runs the checked first-vote INSERT and then reads the
option's tally, inside the database, and returns it (NULL when it stored nothing): the
vote path no longer sends the tally's SELECT as a second round trip. Nothing changes
on SQLite, where the app still sends the two statements.

A frozen copy of webapp/models/first_vote.py's function as of this revision
(tests/test_migrations.py checks a migrated database against the models).

Revision ID: a3c5e7f9b1d4
Revises: d1f3a5c7e9b2
Create Date: 2026-12-04 21:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c5e7f9b1d4"
down_revision = "d1f3a5c7e9b2"
branch_labels = None
depends_on = None

_FUNCTION = (
    "\nCREATE OR REPLACE FUNCTION pulse_checked_first_vote(\n"
    "    p_poll integer, p_option integer, p_key text, p_user integer, p_hash text, "
    "p_network text, p_agent text, p_account_age integer, p_cookie_age integer, "
    "p_saw boolean, p_moment timestamptz, p_slug text, p_signed_in boolean\n"
    ") RETURNS integer LANGUAGE plpgsql AS $$\n"
    "DECLARE\n"
    "    stored_tally integer;\n"
    "BEGIN\n"
    "    INSERT INTO votes (poll_id, option_id, voter_key, user_id, client_hash, "
    "network_hash, agent_hash, account_age_seconds, cookie_age_seconds, saw_article, "
    "created_at, updated_at) SELECT o.poll_id, o.id, p_key, p_user, p_hash, p_network, "
    "p_agent, p_account_age, p_cookie_age, p_saw, p_moment, p_moment FROM poll_options "
    "AS o JOIN polls AS p ON p.id = o.poll_id JOIN articles AS a ON a.id = p.article_id "
    "WHERE o.id = p_option AND o.poll_id = p_poll AND a.slug = p_slug AND a.status = "
    "'published' AND a.published_at <= p_moment AND (p.closed_at IS NULL OR p.closed_at "
    "> p_moment) AND (p.closes_at IS NULL OR p.closes_at > p_moment) AND (p_signed_in OR "
    "(p.allow_anonymous AND (p.under_attack_since IS NULL OR NOT "
    "p.signed_in_only_under_attack))) ON CONFLICT (poll_id, voter_key) DO NOTHING;\n"
    "    IF NOT FOUND THEN\n"
    "        RETURN NULL;\n"
    "    END IF;\n"
    "    SELECT vote_count INTO stored_tally FROM poll_options WHERE id = p_option;\n"
    "    RETURN stored_tally;\n"
    "END\n"
    "$$\n"
)

_DROP = (
    "DROP FUNCTION IF EXISTS pulse_checked_first_vote(integer, integer, text, integer, "
    "text, text, text, integer, integer, boolean, timestamptz, text, boolean)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_DROP)
