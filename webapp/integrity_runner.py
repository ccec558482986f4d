"""The integrity pass in the background: a daemon thread per worker process.

Started lazily by the first request a worker serves (so after gunicorn's fork: a
thread started in the master would not survive it), it runs ``scan_due`` and
``drop_expired_signals`` every INTEGRITY_SCAN_SECONDS in an app context, holding a
site-wide lease so only one worker runs a pass at a time. Off under TESTING unless
the app's config sets INTEGRITY_RUNNER to True; INTEGRITY_SCAN_SECONDS <= 0 turns it
off everywhere.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask


def init_app(app: Flask) -> None:
    """Start the runner with the first request this worker serves (when enabled)."""
    raise NotImplementedError


def enabled(app: Flask) -> bool:
    """Whether this app runs the background pass."""
    raise NotImplementedError


def run_pass(moment: datetime | None = None) -> int | None:
    """One pass, under the site-wide lease (in an app context): the number of polls
    scanned, or None when another worker holds the lease."""
    raise NotImplementedError
