"""Poll integrity's counts on the scale benchmark's bulk-loaded site (issue 16).

The loader writes votes with the tally triggers off (bench/scale_rows.py), so each
option's three counts are then set from the rows here (``set_counts``, one grouped
pass over the votes): ``vote_count`` (votes not set aside), ``signed_in_count`` (of
those, accounts' votes) and ``set_aside_count``, and the daily rollups hold the counted
votes only, as the triggers keep them (webapp/models/tally_triggers.py). ``check`` is
the run's proof beside ``flask polls recount``: no option's counts differ from its rows.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

#: Each option's counts as its vote rows give them.
_FROM_ROWS = {
    "vote_count": "v.set_aside_at IS NULL",
    "signed_in_count": "v.set_aside_at IS NULL AND v.user_id IS NOT NULL",
    "set_aside_count": "v.set_aside_at IS NOT NULL",
}


def _counted(column: str) -> str:
    return (
        f"(SELECT count(*) FROM votes v WHERE v.option_id = poll_options.id "
        f"AND {_FROM_ROWS[column]})"
    )


def set_counts(connection: sa.Connection) -> None:
    """Every option's three counts and the daily rollups, from the rows; committed."""
    began = time.perf_counter()
    connection.execute(
        sa.text(
            "UPDATE poll_options SET "
            + ", ".join(f"{column} = {_counted(column)}" for column in _FROM_ROWS)
        )
    )
    if connection.dialect.name == "postgresql":
        day = "CAST((created_at AT TIME ZONE 'UTC') AS date)"
    else:
        day = "date(created_at)"
    connection.execute(sa.text("DELETE FROM poll_daily_tallies"))
    connection.execute(
        sa.text(
            "INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, "
            f"votes_withdrawn) SELECT option_id, {day}, poll_id, count(*), 0 FROM votes "
            f"WHERE set_aside_at IS NULL GROUP BY option_id, {day}, poll_id"
        )
    )
    connection.commit()
    print(
        f"    poll counts (counted, signed in, set aside) set from the rows: "
        f"{time.perf_counter() - began:.1f}s",
        flush=True,
    )


def check(url: str) -> tuple[bool, str]:
    """Whether every option's three counts equal its rows, and what was found."""
    from webapp.config import database_url_from

    engine = sa.create_engine(database_url_from(url))
    try:
        with engine.connect() as connection:
            drifted = {
                column: connection.scalar(
                    sa.text(
                        f"SELECT count(*) FROM poll_options WHERE {column} <> {_counted(column)}"
                    )
                )
                for column in _FROM_ROWS
            }
    finally:
        engine.dispose()
    said = ", ".join(f"{column} {n}" for column, n in drifted.items())
    return not any(drifted.values()), f"options whose counts differ from their votes: {said}"
