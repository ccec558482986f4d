"""Pulse with one more route, for tests/test_gunicorn.py: a response that takes longer
than gunicorn's worker timeout to send, sent through ``webapp.heartbeat`` as the CSV
exports are. Served by gunicorn in a process of its own (settings from the environment)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Response

from webapp import create_app, heartbeat

#: The pause before each piece of the slow response (tests/test_gunicorn.py says how many).
PAUSE_SECONDS = 0.5

app = create_app(
    {
        "SECRET_KEY": os.environ["SLOW_APP_SECRET"],
        "DATABASE_URL": os.environ["SLOW_APP_DATABASE_URL"],
        "RATELIMIT_STORAGE_URI": "memory://",
    }
)


def _slowly() -> Iterator[str]:
    for number in range(int(os.environ["SLOW_APP_PIECES"])):
        time.sleep(PAUSE_SECONDS)
        yield f"piece {number}\n"


@app.get("/slow")
def slow() -> Response:
    return Response(heartbeat.beating(_slowly()), mimetype="text/plain")
