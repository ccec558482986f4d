"""The whole data model; importing this module registers every table."""

from webapp.models import (
    comment_triggers,
    common_ground_triggers,
    first_vote,
    notification_triggers,
    refine_triggers,
    tally_triggers,
    vote_history_triggers,
)
from webapp.models.articles import Article, ArticleStatus, CommentMode, Label, article_labels
from webapp.models.base import Base, utcnow
from webapp.models.comment_actions import CommentDeletion, CommentPostKey  # noqa: F401
from webapp.models.comments import (
    Comment,
    CommentFlag,
    CommentReaction,
    CommentStatus,
    FlagReason,
)
from webapp.models.common_ground import CommentAnswerReaction, VoteChange
from webapp.models.embed import EmbedSite, EmbedThread, ExternalIdentity  # noqa: F401 (issue 22)
from webapp.models.integrity import (
    GroupKind,
    GroupStatus,
    IntegrityGroup,
    IntegrityGroupVote,
)
from webapp.models.jobs import Job, JobStatus  # noqa: F401 (the job queue's table)
from webapp.models.mail import MailStatus, OutboxMessage  # noqa: F401 (issue 21)
from webapp.models.moderation import (
    ModerationAction,
    ModerationActionKind,
    ModerationTerm,
    SiteSetting,
    TermKind,
)
from webapp.models.moderation_counts import ModerationQueueCounts  # noqa: F401 (table, triggers)
from webapp.models.notifications import NotificationSettings  # noqa: F401 (issue 21's tables)
from webapp.models.polls import Poll, PollDailyTally, PollOption, ResultsVisibility, Vote
from webapp.models.tone_corrections import ToneCorrection  # noqa: F401 (issue 17)
from webapp.models.tone_counters import ArticleToneCount  # noqa: F401 (tables, triggers)
from webapp.models.topic_words import SiteTopicWord  # noqa: F401 (issue 17)
from webapp.models.users import Role, User

tally_triggers.TRIGGERS.attach(Base.metadata)
first_vote.FUNCTIONS.attach(Base.metadata)  # a first vote and its tally, one round trip
comment_triggers.TRIGGERS.attach(Base.metadata)
vote_history_triggers.TRIGGERS.attach(Base.metadata)  # issue 20: minds changed
# After jobs and comments: they queue a comment's background re-score (issue 17).
refine_triggers.TRIGGERS.attach(Base.metadata)
notification_triggers.TRIGGERS.attach(Base.metadata)  # issue 21: replies to tell
# After the tallies' and tone counters' (their tables and votes' triggers; issue 20).
common_ground_triggers.TRIGGERS.attach(Base.metadata)

__all__ = [
    "Article",
    "ArticleStatus",
    "Base",
    "Comment",
    "CommentFlag",
    "CommentMode",
    "CommentAnswerReaction",
    "CommentReaction",
    "CommentStatus",
    "FlagReason",
    "GroupKind",
    "GroupStatus",
    "IntegrityGroup",
    "IntegrityGroupVote",
    "Label",
    "ModerationAction",
    "ModerationActionKind",
    "ModerationTerm",
    "Poll",
    "PollDailyTally",
    "PollOption",
    "ResultsVisibility",
    "Role",
    "SiteSetting",
    "TermKind",
    "User",
    "Vote",
    "VoteChange",
    "article_labels",
    "utcnow",
]
