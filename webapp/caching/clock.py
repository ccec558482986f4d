"""The one clock every cache in this worker measures freshness with.

Seconds that only go forward. Tests replace ``now`` (monkeypatch ``clock.now``) to move
time on instead of sleeping; every cache reads it through this module at call time,
so one patch moves them all. Redis entries use Redis's own clock (TIME in the
results cache's scripts), which every worker shares.
"""

from __future__ import annotations

import time
from collections.abc import Callable

now: Callable[[], float] = time.monotonic
