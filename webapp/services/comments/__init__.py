"""Comments: posting, replying, editing, deleting, reactions, reports and the thread.

Each comment is rendered, sanitised, scored and checked once, when it is written;
reading a thread only fetches stored HTML, so a long thread costs what a short
one does per page.

- ``rules``: the limits, the edit window, the report reasons and weights, and who may
  do what with a comment (no database);
- ``posting``: a new comment or reply, prepared then stored;
- ``actions``: editing, deleting, reacting and reporting;
- ``thread``: a page of the thread, each comment with what its reader may do;
- ``storage``: the SQL behind them (the guarded INSERT, counters moved in place).

Import what you use from here.
"""

from __future__ import annotations

from webapp.services.comments.actions import delete, edit, flag, get_comment, react, report_weight
from webapp.services.comments.posting import (
    PostedTo,
    article_for_posting,
    prepare,
    store,
    store_if_unchanged,
    submit,
)
from webapp.services.comments.rules import (
    DEEPEST_SHOWN,
    EDIT_MINUTES,
    EDIT_WINDOW,
    FLAG_REASONS,
    FULL_REPORT_WEIGHT,
    MAX_BODY,
    MAX_NOTE,
    NEW_ACCOUNT_REPORT_WEIGHT,
    REACTIONS,
    SORTS,
    STAFF_TITLES,
    CommentsClosed,
    EditWindowOver,
    OwnComment,
    can_delete,
    can_edit,
    can_react,
    can_reply,
    can_report,
    can_see,
    comments_open,
    edit_until,
    is_moderator,
    is_public,
    min_body,
)
from webapp.services.comments.storage import PostingArticle, count_for, recount_article
from webapp.services.comments.thread import (
    AuthorView,
    CommentNode,
    CommentView,
    ThreadKey,
    ThreadPage,
    article_for_comments,
    page_holding,
    thread,
)
from webapp.services.comments.undo import (
    UndoTooLate,
    claim_key,
    clean_key,
    delete_undoable,
    finish_deletions,
    posted_with_key,
    undo,
    undo_seconds,
)

__all__ = [
    "DEEPEST_SHOWN",
    "EDIT_MINUTES",
    "EDIT_WINDOW",
    "FLAG_REASONS",
    "FULL_REPORT_WEIGHT",
    "MAX_BODY",
    "MAX_NOTE",
    "NEW_ACCOUNT_REPORT_WEIGHT",
    "REACTIONS",
    "SORTS",
    "STAFF_TITLES",
    "AuthorView",
    "CommentNode",
    "CommentView",
    "CommentsClosed",
    "EditWindowOver",
    "OwnComment",
    "PostedTo",
    "PostingArticle",
    "ThreadKey",
    "ThreadPage",
    "UndoTooLate",
    "article_for_comments",
    "article_for_posting",
    "can_delete",
    "can_edit",
    "can_react",
    "can_reply",
    "can_report",
    "can_see",
    "claim_key",
    "clean_key",
    "comments_open",
    "count_for",
    "delete",
    "delete_undoable",
    "edit",
    "edit_until",
    "finish_deletions",
    "flag",
    "get_comment",
    "is_moderator",
    "is_public",
    "min_body",
    "page_holding",
    "posted_with_key",
    "prepare",
    "react",
    "recount_article",
    "report_weight",
    "store",
    "store_if_unchanged",
    "submit",
    "thread",
    "undo",
    "undo_seconds",
]
