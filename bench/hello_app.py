"""A bare Flask app with one route, GET /hello: the floor bench/read_path.py measures
Pulse against, served by gunicorn with the same settings as Pulse in the same run.

Nothing of Pulse is imported: no database, session, logging or headers; what it
costs is gunicorn, Werkzeug and Flask routing one request to a function."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "Hello, world!"
