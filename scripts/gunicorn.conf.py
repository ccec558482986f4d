"""Gunicorn settings for production: `scripts/serve-prod` (or `make serve-prod`) uses them.

Workers are stateless (sessions are signed cookies, rate limits live in Redis,
tallies in PostgreSQL), so WEB_CONCURRENCY workers here, and as many machines
as needed behind a load balancer, all share one database.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Load the app (and the text models) once in the master; workers share the pages.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# Pulse writes its own structured request log; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Warm the text models before forking; each worker opens its own connections.
from webapp.gunicorn_hooks import post_fork, when_ready  # noqa: E402, F401
