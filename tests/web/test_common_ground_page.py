"""The article page's Common ground sort (issue 20): a link beside the others that
works without script, the comments in its order, and the "Valued across answers"
mark on the comments readers of two or more answers approve of."""

from __future__ import annotations

from tests.conftest import Api
from tests.insight_data import D1, add_comment, vote
from webapp.models import CommentReaction


def comments_section(response) -> str:  # type: ignore[no-untyped-def]
    """The page's comments section alone (the sides section may quote comments too)."""
    page = response.get_data(as_text=True)
    return page[page.index('<section class="comments" id="comments"') :]


def test_the_common_ground_sort_and_its_mark_on_the_page(client, db, make_user, make_article):
    article = make_article(poll=True)
    options = article.poll.options
    author = make_user(name="Ada Writer")
    first = add_comment(db, article, author, 0.0, "neutral", D1)
    first.body, first.html = "An early remark", "<p>An early remark</p>"
    second = add_comment(db, article, author, 0.0, "neutral", D1)
    second.body, second.html = "A remark both sides like", "<p>A remark both sides like</p>"
    readers = [make_user() for _ in range(4)]
    for reader, option in zip(
        readers, (options[0], options[0], options[1], options[1]), strict=True
    ):
        vote(article.poll, reader, option, D1)
        db.session.add(CommentReaction(comment_id=second.id, user_id=reader.id, value=1))
    db.session.commit()
    visitor = Api(client)
    page = comments_section(visitor.get(f"/articles/{article.slug}"))
    # The sort is a plain link beside Oldest, Newest, Top and Featured.
    assert f'href="/articles/{article.slug}?sort=common_ground#comments"' in page
    assert ">Common ground</a>" in page
    assert page.index("An early remark") < page.index("A remark both sides like")
    assert page.count("Valued across answers") == 1
    sorted_page = comments_section(visitor.get(f"/articles/{article.slug}?sort=common_ground"))
    assert sorted_page.index("A remark both sides like") < sorted_page.index("An early remark")
    assert 'aria-current="page">Common ground</a>' in sorted_page
    # The mark belongs to the bridging comment, in words.
    marked = sorted_page.index("Valued across answers")
    start = sorted_page.rfind('<article class="comment', 0, marked)
    assert sorted_page[start:marked].startswith(
        f'<article class="comment" id="comment-{second.id}"'
    )
