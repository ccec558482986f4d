"""Under gunicorn, as production serves Pulse: a response longer than the worker
timeout is sent whole.

Gunicorn's sync workers tell the master they are alive only between requests, and the
master kills one that has been silent for ``timeout`` seconds; a CSV export of a
million-vote poll takes longer than production's 30 s, and was cut off. Here the
timeout is 2 s and the response takes 6 s: with the project's ``post_fork`` hook
(webapp/gunicorn_hooks.py, which hands the worker's ``notify`` to webapp.heartbeat)
it arrives whole; without it, the same response is cut off, which shows the test
can fail.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
#: Pieces of /slow, half a second apart: 6 s against the 2 s timeout.
PIECES = 12
GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.skipif(
    GUNICORN is None, reason="gunicorn is not installed (pip install -e '.[dev]')"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(tmp_path: Path, with_hook: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    config = tmp_path / f"gunicorn-{int(with_hook)}.conf.py"
    config.write_text(
        f"bind = '127.0.0.1:{port}'\nworkers = 1\nworker_class = 'sync'\ntimeout = 2\n"
        + ("from webapp.gunicorn_hooks import post_fork  # noqa: F401\n" if with_hook else "")
    )
    environment = {
        **os.environ,
        "SLOW_APP_SECRET": TEST_SECRET,
        "SLOW_APP_DATABASE_URL": f"sqlite:///{tmp_path / 'slow.db'}",
        "SLOW_APP_PIECES": str(PIECES),
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [str(GUNICORN), "-c", str(config), "tests.gunicorn_slow_app:app"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if server.poll() is not None:
                raise AssertionError(
                    server.stderr.read().decode() if server.stderr else ""
                ) from None
            time.sleep(0.1)
    server.kill()
    raise AssertionError("gunicorn did not start within 30 s")


def _fetch_slow(port: int) -> bytes:
    """The body of /slow, as far as it came (a cut-off response ends early)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", "/slow")
    response = connection.getresponse()
    assert response.status == 200
    body = b""
    try:
        while piece := response.read1(1024):
            body += piece
    except (http.client.IncompleteRead, ConnectionError) as cut:
        body += getattr(cut, "partial", b"")
    finally:
        connection.close()
    return body


@pytest.mark.parametrize("with_hook", [True, False], ids=["with-post-fork", "without"])
def test_a_response_longer_than_the_worker_timeout_arrives_whole(tmp_path, with_hook):
    server, port = _serve(tmp_path, with_hook)
    try:
        body = _fetch_slow(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    whole = "".join(f"piece {n}\n" for n in range(PIECES)).encode()
    if with_hook:
        assert body == whole
    else:
        # The master killed the silent worker part way: the control that shows the
        # response above arrived whole because of the hook.
        assert len(body) < len(whole)
