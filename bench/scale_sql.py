"""The few SQL spellings bench/scale_data.py needs on both databases, as text.

Every bulk statement of the scale benchmark is ``INSERT INTO t (...) <series> SELECT ...
FROM seq``: ``series`` is a CTE giving the rows ``seq(n)`` for n from :lo to :hi
(``generate_series`` on PostgreSQL, a recursive CTE on SQLite), and the columns are
expressions of ``n``. Timestamps are written as the app stores them: ``timestamptz`` on
PostgreSQL, SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` text (UTC) on SQLite, so the
app's keyset comparisons on SQLite order them as it orders its own.

Only numbers and the benchmark's own constants are written into the SQL; nothing comes
from outside.
"""

from __future__ import annotations

from datetime import UTC, datetime


class Dialect:
    def __init__(self, name: str, start: datetime) -> None:
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"no SQL spellings for {name}")
        self.name = name
        self.pg = name == "postgresql"
        start = start.astimezone(UTC).replace(microsecond=0)
        #: The moment every generated time counts its seconds from.
        self.start = start
        self._start = (
            start.strftime("%Y-%m-%d %H:%M:%S+00")
            if self.pg
            else start.strftime("%Y-%m-%d %H:%M:%S")
        )

    def series(self) -> str:
        """A CTE ``seq(n)``, n from :lo to :hi (64-bit on PostgreSQL: n * 7919 fits)."""
        if self.pg:
            return (
                "WITH seq(n) AS (SELECT generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint))) "
            )
        return (
            "WITH RECURSIVE seq(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM seq WHERE n < :hi) "
        )

    def at(self, seconds: str) -> str:
        """The moment ``seconds`` (an SQL expression, >= 0, may be fractional) after start."""
        if self.pg:
            return f"(CAST('{self._start}' AS timestamptz) + ({seconds}) * interval '1 second')"
        return self._sqlite_shift(f"'{self._start}'", seconds)

    def shift(self, moment: str, seconds: str) -> str:
        """The timestamp expression ``moment`` moved ``seconds`` (an expression, >= 0) on."""
        if self.pg:
            return f"({moment} + ({seconds}) * interval '1 second')"
        return self._sqlite_shift(moment, seconds)

    @staticmethod
    def _sqlite_shift(moment: str, seconds: str) -> str:
        return (
            f"(strftime('%Y-%m-%d %H:%M:%f', {moment}, '+' || ({seconds}) || ' seconds') || '000')"
        )

    def day(self, moment: str) -> str:
        """The UTC day of a stored timestamp, as the tally triggers take it."""
        if self.pg:
            return f"CAST(({moment} AT TIME ZONE 'UTC') AS date)"
        return f"date({moment})"

    def json(self, literal: str) -> str:
        """A JSON constant (the benchmark's own text, no quotes inside)."""
        if "'" in literal:
            raise ValueError("no quotes in the benchmark's JSON constants")
        return f"CAST('{literal}' AS json)" if self.pg else f"'{literal}'"

    def real(self, expression: str) -> str:
        return f"CAST({expression} AS double precision)" if self.pg else f"(({expression}) * 1.0)"

    def choose(self, selector: str, values: list[str]) -> str:
        """CASE ``selector`` WHEN 0 THEN values[0] ... END (values are SQL expressions)."""
        whens = " ".join(f"WHEN {i} THEN {value}" for i, value in enumerate(values))
        return f"CASE {selector} {whens} END"
