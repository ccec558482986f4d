"""Analysers for the job runner's tests, importable by a worker started as a process."""

from __future__ import annotations

import os
import time


class SleepyAnalyser:
    """Slow (``fast = False``): takes JOBS_TEST_SLEEP seconds (default 1.5) a comment
    and calls every comment mildly negative."""

    fast = False

    def score(self, text: str) -> float:
        time.sleep(float(os.environ.get("JOBS_TEST_SLEEP", "1.5")))
        return -0.3
