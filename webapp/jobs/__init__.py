"""The job runner: work written to the ``jobs`` table in the same transaction as its
cause, and run later by ``flask --app wsgi worker``.

    from webapp.jobs import enqueue, handler

    @handler("mail.send")
    def send(job: RunningJob) -> None: ...

    enqueue("mail.send", {"to": ...})  # in the caller's transaction; it commits

See webapp/jobs/queue.py (claiming, retries) and webapp/jobs/runner.py (the loop).
"""

from webapp.jobs.queue import enqueue
from webapp.jobs.registry import RunningJob, handler

__all__ = ["RunningJob", "enqueue", "handler"]
