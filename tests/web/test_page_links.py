"""Page links (``page_url`` in webapp.templating) keep the page's own address."""

from __future__ import annotations

from tests.conftest import days_ago


def test_page_links_keep_the_route_when_the_query_repeats_its_argument(make_app, make_article):
    # ?slug=... names the route's own argument: the link once failed with a 500.
    app = make_app(ARTICLES_PER_PAGE=1)
    with app.app_context():
        for age in range(2):
            make_article(f"Story {age}", published_at=days_ago(age), labels=["Asia"])
        response = app.test_client().get("/labels/asia?slug=elsewhere&sort=new")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'href="/labels/asia?sort=new&amp;page=2"' in page
