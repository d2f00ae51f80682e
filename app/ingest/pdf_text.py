"""PDF text as sentences: lines the page layout broke mid-sentence, joined again."""

from __future__ import annotations

import re

_SENTENCE_ENDED = re.compile(r"[.!?:;][\"'”’)\]]*$")
_BLOCK_LINE = re.compile(r"^\s*(?:[-•*|#>]|\d{1,3}[.)]\s)|\|| {2,}|\t")
WRAPPED_LINE_CHARS = 50  # a body-text line at least this long that ends mid-sentence wrapped


def unwrap_lines(text: str) -> str:
    """Join the lines a PDF's layout broke mid-sentence, so a sentence is one line again.

    PDF text comes out line by line as printed ("Kite sees\nthe ground at a resolution of
    4.8 metres…"), and every line break would end a sentence for the chunker and the answer
    checks. A line is joined to the next when it does not end a sentence, neither is a
    table row, list item or heading-like block line, and the next starts in lower case or
    the line is long enough to be wrapped body text. Paragraph breaks (blank lines),
    table rows, lists and short heading lines stay as they are.
    """
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if out:
            prev = out[-1]
            if _joins(prev, line):
                out[-1] = (
                    prev.rstrip() + ("" if prev.rstrip().endswith("-") else " ") + line.lstrip()
                )
                continue
        out.append(line)
    return "\n".join(out)


def _joins(prev: str, line: str) -> bool:
    a, b = prev.strip(), line.strip()
    if not a or not b or _SENTENCE_ENDED.search(a):
        return False
    if _BLOCK_LINE.search(prev) or _BLOCK_LINE.search(line):
        return False
    if a.endswith("-") and a[-2:-1].isalpha():
        return b[0].islower()  # "satel-" + "lite", "long-" + "term"
    # a long line that ends on a lower-case word or a comma wrapped; one that ends on a
    # capitalised word may be a title ("… 2023 Operations Summary")
    last = a.split()[-1]
    return b[0].islower() or (len(a) >= WRAPPED_LINE_CHARS and not last[0].isupper())
