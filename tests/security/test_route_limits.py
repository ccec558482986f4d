"""Rate limits on routes (webapp.ratelimits.route_limit) and per action
(limit_action): counted per client, on the methods they name, answered with 429 and
Retry-After, and not counted at all while rate limits are off."""

from __future__ import annotations

from tests.conftest import Api


def test_the_vote_form_is_rate_limited_per_client(make_app, make_article):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_VOTE="2 per minute")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        option = article.poll.options[0].id
        reader = Api(app.test_client())
        url = f"/articles/{article.slug}/poll"
        codes = [reader.form(url, {"option_id": option}).status_code for _ in range(3)]
        assert codes == [302, 302, 429]
        limited = reader.form(url, {"option_id": option})
        assert "You are voting too fast" in limited.get_data(as_text=True)
        assert int(limited.headers["Retry-After"]) > 0
        # Another client (another address) is counted apart.
        other = Api(app.test_client())
        answer = other.form(url, {"option_id": option}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
        assert answer.status_code == 302


def test_the_sign_in_page_counts_only_posts(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    with app.app_context():
        visitor = Api(app.test_client())
        assert [visitor.get("/login").status_code for _ in range(4)] == [200] * 4
        attempt = {"email": "nobody@example.org", "password": "not the password"}
        codes = [visitor.form("/login", attempt).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        assert visitor.get("/login").status_code == 200  # reading the form is never limited


def test_with_rate_limits_off_nothing_is_counted(make_app, make_article):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_VOTE="1 per minute")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        options = [option.id for option in article.poll.options]
        voter = Api(app.test_client())
        url = f"/api/v1/articles/{article.slug}/poll/votes"
        codes = [voter.post(url, {"option_id": options[n % 3]}).status_code for n in range(5)]
        assert codes == [201, 200, 200, 200, 200]
        assert (
            voter.form(f"/articles/{article.slug}/poll", {"option_id": options[0]}).status_code
            == 302
        )
