"""The tone counters on the scale benchmark's bulk-loaded site.

The loader writes votes with the tally triggers off and comments in set-based
statements; the tone triggers (webapp/models/tone_counters.py) run meanwhile, but the
counters are set once more from the rows after the load (``set_counters``, one grouped
pass over the comments) so they are right whatever the loader turned off. ``check``
is the run's proof: ``flask sentiment recount --check`` finds no drift.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import sqlalchemy as sa

from bench.harness import ROOT, SECRET_KEY


def set_counters(connection: sa.Connection) -> None:
    """Every article's tone by answer and comments per day, from the rows; committed."""
    from webapp.services.insights.counters import refill

    began = time.perf_counter()
    refill(connection)
    connection.commit()
    print(f"    tone counters set from the rows: {time.perf_counter() - began:.1f}s", flush=True)


def check(url: str) -> tuple[bool, str]:
    """Whether ``flask sentiment recount --check`` finds the counters equal to the rows,
    and what it said."""
    environment = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
    environment.pop("REDIS_URL", None)
    recount = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sentiment", "recount", "--check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    ok = recount.returncode == 0 and "nothing to fix" in recount.stdout
    said = (recount.stdout.strip().splitlines() or [recount.stderr.strip()[-200:]])[-1]
    return ok, f"`flask sentiment recount --check`: {said!r}"
