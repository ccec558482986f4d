"""The web app as ``./scripts/serve`` runs it: one local process for trying Pulse.

Unlike ``flask run`` it loads the text models (the toxicity scorer and the fast
sentiment analyser) before it takes the first request, so nobody's first comment
waits seconds for them, and it prints what a person trying Pulse needs to know
instead of Werkzeug's red "development server" banner: this script is meant for one
machine, and ./scripts/serve-prod (gunicorn) is the production server. Requests are
logged once, by the app's own request log (``webapp.requests``).

    python scripts/serve_local.py        # HOST (127.0.0.1) and PORT (5000) from the environment
"""

from __future__ import annotations

import logging
import os
import sys
import time


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))

    from werkzeug.serving import make_server

    from webapp import create_app
    from webapp.services.insights.refine import request_analyser
    from webapp.services.moderation.toxicity import get_scorer

    app = create_app()
    started = time.monotonic()
    print("Loading the text models (toxicity and sentiment)...", flush=True)
    with app.app_context():
        request_analyser()
        get_scorer()
    print(f"Text models ready in {time.monotonic() - started:.1f}s.", flush=True)
    # Werkzeug would log every request a second time, beside the app's own log line.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    print(
        f"Pulse is ready on http://{host}:{server.server_port}  (Ctrl+C stops it; "
        "this local server is for trying Pulse: ./scripts/serve-prod serves production)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
