"""The moderation counters on the scale benchmark's bulk-loaded site.

The queue counts (``moderation_queue_counts``) and each comment's open reports
(``comments.open_reports``, the Reported queue's rank) are kept by triggers
(webapp/models/moderation_counts.py), which run while the loader writes comments and
reports; they are set once more from the rows after the load (``set_counters``) so
they are right whatever the loader turned off. ``check`` is the run's proof:
``moderation.counter_drift`` finds every queue's count equal to its comments and
every comment's open reports equal to its reports since its last decision.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from bench.harness import SECRET_KEY


def set_counters(connection: sa.Connection) -> None:
    """The queue counts and every comment's open reports, from the rows; committed."""
    from webapp.services.moderation.queues import refill_counters

    began = time.perf_counter()
    refill_counters(connection)
    connection.commit()
    print(
        f"    moderation counters set from the rows: {time.perf_counter() - began:.1f}s",
        flush=True,
    )


def check(url: str) -> tuple[bool, str]:
    """Whether the stored queue counts and open reports equal the rows, and what was
    found (the queues' counts as stored)."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.services.moderation import counter_drift, queue_counts

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "INTEGRITY_RUNNER": False})
    with app.app_context():
        try:
            drift = counter_drift()
            counts = queue_counts()
        finally:
            db.session.remove()
            db.engine.dispose()
    shown = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    if drift:
        return False, f"moderation counters ({shown}) differ from the rows: {drift}"
    return True, f"moderation counters ({shown}) equal the rows"
