"""Gunicorn server hooks, shared by scripts/gunicorn.conf.py and the bench scripts.

Both load the app once in the master (``preload_app = True``) and then:

- ``when_ready`` warms the sentiment and toxicity models before forking, so no
  reader's first comment waits about a second for a model to load;
- ``post_fork`` gives every worker its own database connections (ones opened in the
  master must not be shared across processes), and hands the worker's ``notify`` to
  ``webapp.heartbeat`` so a long streamed export is not killed at the timeout.
"""

from __future__ import annotations

from typing import Any

from webapp import heartbeat
from webapp.extensions import db
from webapp.services.insights.refine import request_analyser
from webapp.services.moderation.toxicity import get_scorer


def when_ready(server: Any) -> None:
    app = server.app.wsgi()
    with app.app_context():
        request_analyser()  # a slow analyser runs in the job worker, not here
        get_scorer()


def post_fork(server: Any, worker: Any) -> None:
    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():  # the autocommit one too (webapp.connections)
            engine.dispose(close=False)
    heartbeat.install(worker.notify)
