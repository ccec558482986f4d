"""Which characters user-written text may hold: one rule for every service.

People paste from word processors, terminals and other people's pages, so text
arrives with carriage returns, stray control characters and the odd character
XML cannot carry. Stored as it came, one such character breaks whatever later
re-publishes it (the Atom feed stops parsing for every subscriber) and makes
look-alike titles and names. Every service that stores user text passes it
through ``clean_line`` (titles, labels, names, poll questions and options, terms,
reasons) or ``clean_block`` (article and comment bodies, report notes), so the
rule is decided here once.

Text that cannot be stored at all (NUL, an unpaired surrogate) never reaches a
service: ``webapp.security.refuse_unstorable_text`` answers 400 first. These
functions drop those characters too, so text from elsewhere (the CLI, a test,
a fixture) obeys the same rule.
"""

from __future__ import annotations

import re

#: C0 controls except tab and line feed (carriage returns are turned into line
#: feeds before this applies), DEL, the C1 controls, unpaired surrogates, and the
#: two non-characters XML 1.0 forbids.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

#: What no text column can store: NUL (PostgreSQL refuses it) and unpaired
#: surrogates (UTF-8 cannot encode them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

#: Everything XML 1.0 cannot carry: its ``Char`` production, inverted.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _one_kind_of_newline(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_line(text: str) -> str:
    """Single-line text (a title, a label, a name): no control characters, and any
    run of whitespace, line breaks and tabs included, becomes one space; no space
    at either end."""
    return " ".join(_CONTROLS.sub("", _one_kind_of_newline(text)).split())


def clean_block(text: str) -> str:
    """Multi-line text (a body, a note): line feeds and tabs stay, ``\\r\\n`` and a lone
    ``\\r`` become ``\\n``, every other control character goes. Spacing is the writer's:
    Markdown reads it, so nothing is collapsed or trimmed here."""
    return _CONTROLS.sub("", _one_kind_of_newline(text))


def has_unstorable(text: str) -> bool:
    """Whether ``text`` holds a character no column can store: NUL (PostgreSQL text
    refuses it) or an unpaired surrogate (not encodable as UTF-8)."""
    return _UNSTORABLE.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids, for documents others parse
    (the Atom feed): rows stored before these rules, or written around them, must
    not break the document for every reader."""
    return _NOT_XML.sub("", text)
