"""CSV files the service writes, safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is read as a
formula by Excel, LibreOffice and Google Sheets, so a poll option or an article title
written by someone else could run one on the editor's machine (CSV injection). As
OWASP advises, such text cells get a leading single quote (spreadsheets show the text,
not a formula) and every text cell is quoted, so a spreadsheet that splits on ``;``
cannot cut a cell in two and expose a formula in the second half.

Numbers are left alone: a figure the service computed (``-3``, ``-0.2500``) is data,
and it has to stay a number for the spreadsheet to add it up. That is why figures go
in as ``int``, ``float`` or ``Decimal`` and never as preformatted text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Number
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: How much text a streamed file gathers before sending it on.
CHUNK_SIZE = 64_000
#: ... and before sending its first piece: a few dozen rows, so the download starts
#: at once however long the file.
FIRST_CHUNK_SIZE = 4_000

#: What a cell holds: text, or a figure that stays a number.
Cell = str | int | float | Decimal | None


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet reads as a formula."""
    if type(value) is str:  # most cells: answered before the slower checks below
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if value is None:
        return ""
    if isinstance(value, Number) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def figure(value: float, places: int = 4) -> Decimal:
    """A computed figure rounded to ``places`` decimals, kept a number in the CSV."""
    return Decimal(f"{value:.{places}f}")


class SafeCsvWriter:
    """``csv.writer`` with every cell passed through ``spreadsheet_safe`` and every
    text cell quoted (numbers stay bare, so spreadsheets still read them as numbers)."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


@dataclass(frozen=True)
class CsvTable:
    """A file to send: its header and its rows (which may be read lazily)."""

    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]


def chunks(
    table: CsvTable, size: int = CHUNK_SIZE, first_size: int = FIRST_CHUNK_SIZE
) -> Iterator[str]:
    """The table as CSV text in pieces of about ``size`` characters (the first of
    about ``first_size``), so a long export is sent as it is read and never sits whole
    in memory."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(table.header)
    limit = min(size, first_size)
    for row in table.rows:
        writer.writerow(row)
        if buffer.tell() > limit:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            limit = size
    yield buffer.getvalue()


def text(table: CsvTable) -> str:
    """The whole table as CSV text."""
    return "".join(chunks(table))
