"""Minds changed (issue 20): how many readers moved from each answer of a poll to each
other one, and on which days, from the vote history (``vote_changes``).

The history is written by the database in the statement that changed the vote
(webapp/models/vote_history_triggers.py): a first vote, a move, a withdrawal. Here:

- a *move* is a history row from one answer to another. A reader who moves twice
  counts twice (each move is a change of mind); first votes are not moves;
- a *withdrawal* (an answer to nothing) is counted apart, by the answer left;
- the history of a vote set aside by the integrity checks is left out, and comes
  back when the vote is restored (the triggers keep ``set_aside`` in step);
- days are UTC days, like every other figure of the results page.

Two grouped queries on the poll's range of ``ix_vote_changes_poll_id_changed_at``,
whatever the number of votes: the moves and withdrawals per day and pair of
answers (the totals are their sums), and how many distinct votes moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from webapp.csv_export import CsvTable
from webapp.extensions import db
from webapp.models import Poll, VoteChange
from webapp.services.insights.days import utc_day


@dataclass(frozen=True)
class ChangeDay:
    """One UTC day's moves and withdrawals."""

    day: date
    moves: dict[tuple[int, int], int]  # (from option, to option) -> moves that day
    withdrawals: dict[int, int]  # option left -> withdrawals that day

    @property
    def total_moves(self) -> int:
        return sum(self.moves.values())

    @property
    def total_withdrawals(self) -> int:
        return sum(self.withdrawals.values())


@dataclass(frozen=True)
class MindsChanged:
    """A poll's moves between its answers, over its whole history so far."""

    #: (option id, label), in the poll's order.
    options: list[tuple[int, str]]
    #: (from option, to option) -> moves; pairs nobody took are absent.
    moves: dict[tuple[int, int], int]
    #: option left -> withdrawals.
    withdrawals: dict[int, int]
    #: Days with a move or a withdrawal, oldest first.
    days: list[ChangeDay]
    #: Votes that moved at least once (a reader who moved twice counts once here).
    readers_who_moved: int
    labels: dict[int, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", dict(self.options))

    @property
    def total_moves(self) -> int:
        return sum(self.moves.values())

    @property
    def total_withdrawals(self) -> int:
        return sum(self.withdrawals.values())

    @property
    def nobody_changed(self) -> bool:
        return not self.moves and not self.withdrawals

    def moved_from(self, option_id: int) -> int:
        """Moves away from this answer (to any other)."""
        return sum(n for (source, _), n in self.moves.items() if source == option_id)

    def moved_to(self, option_id: int) -> int:
        """Moves to this answer (from any other)."""
        return sum(n for (_, target), n in self.moves.items() if target == option_id)

    def pairs(self) -> list[tuple[int, int, int]]:
        """(from, to, moves) for every pair someone took, in the poll's order of the
        answers (from, then to): the table's and the chart's rows."""
        order = {option_id: index for index, (option_id, _) in enumerate(self.options)}
        return sorted(
            ((source, target, n) for (source, target), n in self.moves.items()),
            key=lambda row: (order.get(row[0], len(order)), order.get(row[1], len(order))),
        )


def minds_changed(poll: Poll) -> MindsChanged:
    """The poll's moves and withdrawals, by pair of answers and by day."""
    changes = VoteChange.__table__.c
    day = utc_day(changes.changed_at)
    rows = (
        db.session.execute(
            select(day, changes.from_option_id, changes.to_option_id, func.count())
            .where(
                changes.poll_id == poll.id,
                changes.from_option_id.is_not(None),  # first votes are no change of mind
                changes.set_aside.is_(False),
            )
            .group_by(day, changes.from_option_id, changes.to_option_id)
            .order_by(day)
        )
        .tuples()
        .all()
    )
    readers = db.session.scalar(
        select(func.count(func.distinct(changes.vote_id))).where(
            changes.poll_id == poll.id,
            changes.from_option_id.is_not(None),
            changes.to_option_id.is_not(None),
            changes.set_aside.is_(False),
        )
    )
    return _gathered([(o.id, o.label) for o in poll.options], rows, readers or 0)


def _gathered(
    options: list[tuple[int, str]],
    rows: Iterable[tuple[date, int, int | None, int]],
    readers: int,
) -> MindsChanged:
    moves: dict[tuple[int, int], int] = {}
    withdrawals: dict[int, int] = {}
    days: dict[date, ChangeDay] = {}
    for day, source, target, count in rows:
        today = days.setdefault(day, ChangeDay(day, {}, {}))
        if target is None:
            withdrawals[source] = withdrawals.get(source, 0) + count
            today.withdrawals[source] = today.withdrawals.get(source, 0) + count
        else:
            moves[(source, target)] = moves.get((source, target), 0) + count
            today.moves[(source, target)] = today.moves.get((source, target), 0) + count
    return MindsChanged(
        options=options,
        moves=moves,
        withdrawals=withdrawals,
        days=[days[day] for day in sorted(days)],
        readers_who_moved=readers,
    )


CSV_HEADER = ("day", "change", "from_answer", "to_answer", "votes")


def csv_table(changed: MindsChanged) -> CsvTable:
    """One row per UTC day and pair of answers: the page's per-day table in full. A
    withdrawal's ``to_answer`` is empty. Numbers stay numbers."""
    order = {option_id: index for index, (option_id, _) in enumerate(changed.options)}

    def place(option_id: int) -> int:
        return order.get(option_id, len(order))

    def rows() -> Iterable[tuple[str, str, str, str, int]]:
        for today in changed.days:
            day = today.day.isoformat()
            for (source, target), count in sorted(
                today.moves.items(), key=lambda item: (place(item[0][0]), place(item[0][1]))
            ):
                yield (day, "move", changed.labels[source], changed.labels[target], count)
            for source, count in sorted(today.withdrawals.items(), key=lambda item: place(item[0])):
                yield (day, "withdrawal", changed.labels[source], "", count)

    return CsvTable(header=CSV_HEADER, rows=rows())
