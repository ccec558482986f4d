"""Numbers from outside that name rows must fit the database's INTEGER columns.

Every id column is a 32-bit INTEGER on PostgreSQL (and SQLite refuses anything past
64 bits), so a larger number sent in a URL, a body or a cursor would fail inside the
query with a 500. Checking the range first turns it into a 404 or a 400 instead.
"""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
MIN_INT = -(2**31)


def is_id(value: object) -> bool:
    """A whole number that a row's id could be."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def fits_integer_column(value: int) -> bool:
    return MIN_INT <= value <= MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route: a number past MAX_ID is a 404, whatever the method.

    (A ``max`` on the converter would make the router answer 405 for some methods,
    as it then looks for other rules; raising NotFound ends the search at once.)
    """

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ID:
            raise NotFound()
        return number
