"""/healthz is answered before Flask (webapp.health.HealthCheck): the same answer as
the route gave, never cached, no cookie, HEAD too; other methods still reach Flask."""

from __future__ import annotations

from tests.conftest import TEST_SECRET
from webapp import create_app


def test_health_answers_without_session_or_cache(client):
    response = client.get("/healthz", headers={"Cookie": "session=anything"})
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers
    head = client.head("/healthz")
    assert head.status_code == 200 and head.get_data() == b""


def test_other_methods_still_reach_the_route(client):
    assert client.post("/healthz").status_code in (400, 405)  # the CSRF check, or 405


def test_an_unreachable_database_is_a_503_with_the_same_headers():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert response.headers["Cache-Control"] == "private, no-store"
