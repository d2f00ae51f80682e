"""Rows of a text table keep their header when a passage is cut out of the table.

A chunk, or the sentences the prompt keeps of one, can start in the middle of a table:
``| Pinot Noir | 88 | 521 | 5.9 | 82 |`` says nothing about which figure is the yield
without the header row above it, and a small model then picks a figure by guesswork.
:func:`missing_headers` finds where the header line(s) of each such table go back in
front of its first row in the passage, and the prompt shows them there
(:attr:`app.answer.prompt.SourcePassage.tables`). The passage's own text, and so every
citation span, is unchanged.

Two kinds of table are recognised, both as real files write them:

- Markdown: lines that start and end with ``|``; the header is the table's first line,
  with the ``|---|`` line under it;
- text set out in columns: lines with at least two gaps of two or more spaces (or tabs)
  between cells; the header is the first line of the block of such lines.
"""

from __future__ import annotations

import re

_MARKDOWN_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MARKDOWN_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_COLUMN_GAP = re.compile(r"\S(?: {2,}|\t+)(?=\S)")


def _kind(line: str) -> str | None:
    """``"md"`` for a Markdown table line, ``"cols"`` for a line set out in columns."""
    if _MARKDOWN_ROW.match(line):
        return "md"
    if len(_COLUMN_GAP.findall(line)) >= 2:
        return "cols"
    return None


def _lines(text: str, offset: int = 0) -> list[tuple[int, str]]:
    """Each line of ``text`` with its start, counted from ``offset``."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((offset + pos, line))
        pos += len(line) + 1
    return out


def table_header(document: str, row_start: int) -> tuple[int, str] | None:
    """The header of the table whose row starts at ``row_start`` in ``document``: its
    start and its line(s), or None when the row is no table row or is the header."""
    line_end = document.find("\n", row_start)
    row = document[row_start : line_end if line_end >= 0 else len(document)]
    kind = _kind(row)
    if kind is None:
        return None
    top = row_start
    while top > 0:
        prev_start = document.rfind("\n", 0, top - 1) + 1
        prev = document[prev_start : top - 1]
        if _kind(prev) != kind and not (kind == "md" and _MARKDOWN_RULE.match(prev)):
            break
        top = prev_start
    if top == row_start:
        return None  # the row is the table's first line: its own header
    lines = [line for _, line in _lines(document[top:row_start].rstrip("\n"))]
    header = lines[:2] if len(lines) > 1 and _MARKDOWN_RULE.match(lines[1]) else lines[:1]
    return top, "\n".join(header)


Headers = tuple[tuple[int, str], ...]  # (offset in the passage, header line(s))


def missing_headers(document: str, start: int, text: str) -> Headers:
    """Where ``text`` (the span of ``document`` from ``start``) needs a table's header:
    before the first row it holds of each table whose header lies before ``start``."""
    out: list[tuple[int, str]] = []
    previous = None
    for line_start, line in _lines(text, start):
        kind = _kind(line)
        if kind is not None and kind != previous:  # the first row of a table in the text
            found = table_header(document, line_start)
            if found is not None and found[0] < start:
                out.append((line_start - start, found[1]))
        previous = kind
    return tuple(out)


def shown_with_headers(text: str, headers: Headers) -> str:
    """``text`` with each header put in at its offset (those past its end are dropped:
    a passage trimmed for room keeps only the headers of the rows it still holds)."""
    parts, pos = [], 0
    for offset, header in headers:
        if offset >= len(text):
            break
        parts += [text[pos:offset], header, "\n"]
        pos = offset
    return "".join(parts) + text[pos:]
