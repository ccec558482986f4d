"""The site-wide topic words: words that name a subject wherever they appear on the
site, so a comment's tone never counts them as opinion (issue 17;
webapp/services/insights/topics.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, utcnow


class SiteTopicWord(Base):
    """One lower-case word editors keep on the site-wide list."""

    __tablename__ = "site_topic_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(50), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
