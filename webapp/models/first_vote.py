"""A voter's first vote as one statement that checks the poll again, and on PostgreSQL
that vote and its option's new tally in one round trip.

``CHECKED_FIRST_VOTE`` is the statement ``webapp.services.polls.voting`` runs for a
first vote made on the poll as the results cache holds it: it stores the row only while
the option belongs to the poll, the poll to the article, and the voter may vote there
(``eligibility.refusals``), and stores nothing when any of that no longer holds or the
voter already voted. Its tally triggers (tally_triggers.py) move the option's counts in
the same statement.

The voter is then shown the option's tally as stored with their vote in it
(``polls.tallies.tally_now``), read after the INSERT, since only a read after it sees
what the trigger wrote on top of votes committed meanwhile. On PostgreSQL that read
was a second round trip; ``pulse_checked_first_vote`` runs the same INSERT and then the
same read inside the database and returns the tally (NULL when it stored nothing), so
the vote costs one round trip between BEGIN and COMMIT. Each statement of a PL/pgSQL
function takes a fresh snapshot under READ COMMITTED, so its read sees the trigger's
write exactly as the separate SELECT did. The function's body is the statement itself,
with each ``:b_name`` parameter become ``p_name``: one text for both databases.

The function is attached to the metadata so ``create_all`` installs it; the Alembic
revision a3c5e7f9b1d4 carries its own frozen copy, and tests/test_migrations.py checks
the two agree.
"""

from __future__ import annotations

import re

from webapp.models.triggers import TriggerSet

VOTE_COLUMNS = (
    "(poll_id, option_id, voter_key, user_id, client_hash, network_hash, agent_hash, "
    "account_age_seconds, cookie_age_seconds, saw_article, created_at, updated_at) "
)
#: The vote's integrity signals (webapp.services.integrity.signals), columns of its row.
SIGNAL_VALUES = ":b_hash, :b_network, :b_agent, :b_account_age, :b_cookie_age, :b_saw"

CHECKED_FIRST_VOTE = (
    "INSERT INTO votes " + VOTE_COLUMNS + "SELECT o.poll_id, o.id, :b_key, :b_user, "
    f"{SIGNAL_VALUES}, :b_moment, :b_moment "
    "FROM poll_options AS o JOIN polls AS p ON p.id = o.poll_id "
    "JOIN articles AS a ON a.id = p.article_id "
    "WHERE o.id = :b_option AND o.poll_id = :b_poll AND a.slug = :b_slug "
    "AND a.status = 'published' AND a.published_at <= :b_moment "
    "AND (p.closed_at IS NULL OR p.closed_at > :b_moment) "
    "AND (p.closes_at IS NULL OR p.closes_at > :b_moment) "
    "AND (:b_signed_in OR (p.allow_anonymous "
    "AND (p.under_attack_since IS NULL OR NOT p.signed_in_only_under_attack))) "
    "ON CONFLICT (poll_id, voter_key) DO NOTHING"  # nosec B608
)

#: The function's parameters, in order, with their types: each is ``:b_<name>`` in
#: ``CHECKED_FIRST_VOTE``.
FUNCTION_PARAMETERS = (
    ("poll", "integer"),
    ("option", "integer"),
    ("key", "text"),
    ("user", "integer"),
    ("hash", "text"),
    ("network", "text"),
    ("agent", "text"),
    ("account_age", "integer"),
    ("cookie_age", "integer"),
    ("saw", "boolean"),
    ("moment", "timestamptz"),
    ("slug", "text"),
    ("signed_in", "boolean"),
)

#: The call, for ``sqlalchemy.text``: each parameter cast to its type, so PostgreSQL
#: picks the function whatever type the driver sends a value as.
CALL = "SELECT pulse_checked_first_vote({})".format(
    ", ".join(f"CAST(:b_{name} AS {kind})" for name, kind in FUNCTION_PARAMETERS)
)

_FUNCTION_TEMPLATE = """
CREATE OR REPLACE FUNCTION pulse_checked_first_vote(
    {parameters}
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    stored_tally integer;
BEGIN
    {insert};
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT vote_count INTO stored_tally FROM poll_options WHERE id = p_option;
    RETURN stored_tally;
END
$$
"""
# Built only from this module's own constants (no value from outside reaches it).
_POSTGRES_FUNCTION = _FUNCTION_TEMPLATE.format(  # nosec B608
    parameters=", ".join(f"p_{name} {kind}" for name, kind in FUNCTION_PARAMETERS),
    insert=re.sub(r":b_(\w+)", r"p_\1", CHECKED_FIRST_VOTE),
)

_SIGNATURE = ", ".join(kind for _, kind in FUNCTION_PARAMETERS)

FUNCTIONS = TriggerSet(
    create={"sqlite": (), "postgresql": (_POSTGRES_FUNCTION,)},
    drop={
        "sqlite": (),
        "postgresql": (f"DROP FUNCTION IF EXISTS pulse_checked_first_vote({_SIGNATURE})",),
    },
)
