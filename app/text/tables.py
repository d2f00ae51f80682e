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
# prose typed with two spaces after a full stop: "Prices fell.  Demand grew." is no row
PROSE_GAP = re.compile(r"[a-z0-9%)][.!?][\"'”’)]*(?: {2,}|\t)[\"'“‘(]?[A-Z]")


def _kind(line: str) -> str | None:
    """``"md"`` for a Markdown table line, ``"cols"`` for a line set out in columns."""
    if _MARKDOWN_ROW.match(line):
        return "md"
    if len(_COLUMN_GAP.findall(line)) >= 2 and not PROSE_GAP.search(line):
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


def _cells(line: str, kind: str) -> list[tuple[int, int, str]]:
    """The cells of a table line: (start, end, text). Markdown cells lie between bars; the
    cells of a line set out in columns are runs of words one space apart, with their place
    in the line."""
    if kind == "md":
        return [(0, 0, cell.strip()) for cell in line.strip().strip("|").split("|")]
    return [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+(?: \S+)*", line)]


def _column(cell: tuple[int, int, str], heads: list[tuple[int, int, str]]) -> str:
    """The header of the column a cell stands in: the one it overlaps most (a figure set
    to the right of its column still lies under it)."""
    start, end, _ = cell
    spans = [(h[0], heads[i + 1][0] if i + 1 < len(heads) else 10**9) for i, h in enumerate(heads)]
    overlap = [min(end, e) - max(start, s) for s, e in spans]
    best = max(range(len(heads)), key=lambda i: overlap[i], default=None)
    return heads[best][2] if best is not None and overlap[best] > 0 else ""


def row_read(text: str, at: int, headers: Headers = ()) -> list[str] | None:
    """A table row of ``text`` (the line holding offset ``at``) read with its header: each
    cell followed by the name of its column ("Stellow Depot", "31 Electric buses", "20
    Chargers"). The header is the table's first line above the row, or the one
    the passage lost (``headers``, from :func:`missing_headers`) when its first line is a
    row. None for a line that is
    no table row, or is the header itself."""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    line = text[start : end if end >= 0 else len(text)]
    kind = _kind(line)
    if kind is None or (kind == "md" and _MARKDOWN_RULE.match(line)):
        return None
    found = table_header(text, start)
    # a passage cut out of a table starts at a row: the header it lost goes there
    header = dict(headers).get(found[0] if found else start) or (found[1] if found else "")
    head_line = header.split("\n")[0]
    if not header or _kind(head_line) != kind:
        return None
    if kind == "md":  # a Markdown cell's column is its place in the row
        names = [h[2] for h in _cells(head_line, kind)]
        named = [
            (c[2], names[i] if i < len(names) else "") for i, c in enumerate(_cells(line, kind))
        ]
    else:
        heads = [c for c in _cells(head_line, kind) if c[2]]
        named = [(c[2], _column(c, heads)) for c in _cells(line, kind)]
    return [f"{cell} {name}".strip() for cell, name in named if cell]
