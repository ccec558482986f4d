"""With the default analyser (VADER, fast) posting scores as it always did: nothing is
queued and no comment waits for a refined score."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp.extensions import db as _db
from webapp.models import Comment
from webapp.models.jobs import Job
from webapp.services import comments
from webapp.services.insights import refine
from webapp.services.insights.sentiment import analyse


def test_with_the_default_analyser_nothing_is_queued(app, make_user, make_article):
    text = "What a wonderful, lovely and generous plan."
    article = make_article()
    author = make_user()
    comment = comments.submit(article, author, text)
    _db.session.commit()
    comments.edit(comment, author, text + " Truly.")
    _db.session.commit()

    _db.session.expire_all()
    stored = _db.session.get(Comment, comment.id)
    assert stored is not None
    assert stored.sentiment == pytest.approx(analyse(text + " Truly.").score)
    assert not stored.tone_pending
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert refine.pending_refinements(article.id) == 0
    assert not refine.analyser_is_slow()
