"""The lines at the top of an article that are not its content: a date line, a byline, a
link to the original, navigation and share/print/contents lines.

Real articles saved from the web or a CMS start like this::

    March 4, 2024
    Home > City > Transport
    Harrowfield's Line 4 tram extension carries its first passengers
    By Daniel Ferreira, Transport Correspondent
    Share this article

:func:`read_front_matter` reads the leading lines of a document's text and says which are
metadata (``published``, ``author``), which are boilerplate, and which line is the title.
The text itself is never changed (citation spans index into it): the lines it reports
(and share/print bars, teasers for other pages and copyright footers anywhere in the
text) are *skipped* by chunking, so they are in no passage, and the date and author reach the model
as labelled metadata instead of as body text.

The rules are general (formats of dates, "By …" bylines, breadcrumbs with ``>``, link
lines, the words of share/print/contents bars), never tuned to particular files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

# how far down the header may reach: lines, and characters
MAX_HEADER_LINES = 16
MAX_HEADER_CHARS = 3000
MAX_TITLE_WORDS = 24
MAX_TITLE_CHARS = 200

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday)?\.?,?\s+)"
_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,5})?)"
_DATE_CORE = (
    rf"(?:{_WEEKDAY}?{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 4, 2024
    rf"|{_WEEKDAY}?\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}"  # 4 March 2024
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"  # 2024-03-04
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4})"  # 04/03/2024
)
_DATE_PREFIX = (
    r"(?:(?:first\s+)?(?:published|posted|updated|last\s+updated|date)(?:\s+on)?\s*:?\s*)"
)
DATE_LINE = re.compile(rf"^{_DATE_PREFIX}?(?P<date>{_DATE_CORE}){_TIME}?$", re.I)
_DATE_ANYWHERE = re.compile(rf"{_DATE_PREFIX}?(?P<date>{_DATE_CORE})", re.I)
# "By Jane Doe", "By Jane Doe, Science Desk", "Words by …", "Author: …"
BYLINE = re.compile(
    r"^(?:(?:words\s+|written\s+|story\s+)?by|author|authors)\s*:?\s+(?P<who>\S.*)$", re.I
)
URL_LINE = re.compile(
    r"^(?:(?:original(?:ly)?(?:\s+(?:link|url|article|source|published at))?|source|link|url"
    r"|read (?:more|the original)(?: at)?|via|canonical(?: url)?)\s*:?\s*)?"
    r"(?:<?https?://\S+>?|www\.\S+)$",
    re.I,
)
_NAV_WORDS = (
    r"(?:share(?: this(?: article| story| page)?)?(?: on)?|print(?: this)?|comments?(?: \(\d+\))?"
    r"|email|e-mail|facebook|twitter|x|linkedin|whatsapp|reddit|copy link|save|bookmark"
    r"|subscribe|sign in|log in|register|menu|search|home|skip to (?:main )?content"
    r"|advertisement|listen(?: to this article)?|(?:\d+\s+)?min(?:ute)?s? read|back to top"
    r"|follow us|newsletter|related(?: stories| articles)?|tweet|pin it)"
)
# a bar of such words: "Share this article", "[Share] [Print] [Comments (14)]",
# "Share this article: Email | Facebook | X"
NAV_BAR = re.compile(
    rf"^[\[(]?{_NAV_WORDS}[\])]?(?:\s*[:|·•/,]?\s*[\[(]?{_NAV_WORDS}[\])]?)*\s*:?$", re.I
)
# a teaser for other pages: "Read more: Why the glaciers are shrinking", "Related: Hosepipe
# ban lifted | The plans explained", "See also: …"; a headline, not a sentence of this page
TEASER = re.compile(
    r"^(?:read (?:more|next|also)|also read|related(?: stories| articles| reading| content)?"
    r"|see also|more on this(?: story)?|recommended(?: reading)?|further reading"
    r"|you (?:may|might) also like|most read)\s*:\s*\S.{0,200}$",
    re.I,
)
# a footer: "© 2024 The Westhollow Ledger. All rights reserved.", "Copyright 2024 …"
FOOTER = re.compile(
    r"^(?:(?:©|\(c\)\s*\d{4}|copyright\s+(?:©\s*|\(c\)\s*)?\d{4}\b).{0,200}"
    r"|.{0,120}\ball rights reserved\.?\s*(?:[|·•].{0,120})?)$",
    re.I,
)
# a breadcrumb: "Home > News > Local", "News » Sport", "Gazette | Home > Local > Council"
BREADCRUMB = re.compile(r"^[^\n>»›]{1,60}(?:\s+[>»›/]\s+[^\n>»›]{1,60}){1,8}$")
# "Table of Contents:", "Contents: Findings | Site by site", "In this article: A | B"
CONTENTS = re.compile(
    r"^(?:table of contents|contents|in this (?:article|story)|on this page|jump to)\s*:?"
    r"(?:\s*\S.*)?$",
    re.I,
)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_EMPHASIS = re.compile(r"^[*_]{1,3}(.+?)[*_]{1,3}$")


@dataclass
class FrontMatter:
    """What the top of a document says about it, with the spans chunking must skip."""

    title: str | None = None  # the first line that reads as a title, if any
    title_span: tuple[int, int] | None = None
    published: str | None = None
    author: str | None = None
    skip: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of whole lines


def _plain(line: str) -> str:
    """A line without Markdown emphasis or heading marks, and without list bullets."""
    s = line.strip()
    m = _MD_HEADING.match(s)
    if m:
        s = m.group(2)
    for _ in range(2):
        m2 = _EMPHASIS.match(s)
        if m2:
            s = m2.group(1).strip()
    return s.strip()


def parse_date(line: str) -> str | None:
    m = DATE_LINE.match(_plain(line))
    return m.group("date").strip() if m else None


def _byline(line: str) -> tuple[str | None, str | None] | None:
    """(author, published) from a byline such as "By Jane Doe | Published 9 April 2024"."""
    s = _plain(line)
    m = BYLINE.match(s)
    if not m or len(s) > 160:
        return None
    who = m.group("who")
    published = None
    parts = re.split(r"\s+[|·•–—]\s+|\s+-\s+", who)
    names = []
    for part in parts:
        d = _DATE_ANYWHERE.search(part)
        if d and published is None:
            published = d.group("date").strip()
            continue
        names.append(part.strip())
    author = ", ".join(n for n in names if n).strip(" ,") or None
    if author and len(author.split()) > 14:  # a sentence that starts with "By", not a byline
        return None
    return author, published


def is_boilerplate(line: str) -> bool:
    """A navigation, share, link or contents line: never content, never a title."""
    s = _plain(line)
    if not s:
        return False
    if URL_LINE.match(s) or NAV_BAR.match(s) or CONTENTS.match(s) or _elsewhere(s):
        return True
    return bool(BREADCRUMB.match(s)) and not s.endswith((".", "?", "!"))


def _elsewhere(line: str) -> bool:
    """A line that points at other pages or at the publisher: a teaser or a footer."""
    return bool(TEASER.match(line) or FOOTER.match(line))


def reads_as_title(line: str) -> bool:
    """A short line that is not a sentence of prose: no final full stop, few words."""
    s = _plain(line)
    if not s or len(s) > MAX_TITLE_CHARS or len(s.split()) > MAX_TITLE_WORDS:
        return False
    if s.endswith((".", ",", ";", ":")) and not s.endswith("..."):
        return False
    if not any(c.isalpha() for c in s):
        return False
    if parse_date(s) or _byline(s) or is_boilerplate(s):
        return False
    return s[0].isupper() or s[0].isdigit() or s[0] in "\"'“‘"


def _lines(text: str, limit_chars: int) -> list[tuple[int, int, str]]:
    out = []
    pos = 0
    for raw in text[:limit_chars].split("\n"):
        out.append((pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return out


def read_front_matter(
    text: str, *, find_title: bool = True, title: str | None = None
) -> FrontMatter:
    """Read the header of ``text``: its leading metadata and boilerplate lines, and (with
    ``find_title``) its title line. A known ``title`` (from HTML or PDF metadata, or a
    Markdown heading) is skipped where it stands in the header instead of searched for.

    The header ends at the first line that is none of these: the body. Within it, a
    contents line that ends in a colon takes the short list lines under it along.
    """
    fm = FrontMatter()
    wanted = _norm(title) if title else None
    seen = 0
    in_contents = False
    wrapped: list[tuple[int, int]] = []
    for start, end, raw in _lines(text, MAX_HEADER_CHARS):
        line = raw.strip()
        if not line:
            in_contents = False
            continue
        if seen >= MAX_HEADER_LINES:
            break
        seen += 1
        plain = _plain(line)
        if in_contents and len(plain.split()) <= 8 and not plain.endswith("."):
            fm.skip.append((start, end))
            continue
        kind = _read_metadata(fm, line, (start, end))
        in_contents = kind == "boilerplate" and bool(CONTENTS.match(plain)) and plain.endswith(":")
        if kind is not None:
            continue
        got = _norm(" ".join([*(text[a:b] for a, b in wrapped), plain]))
        if fm.title_span is None and wanted is not None and wanted.startswith(got):
            # the known title, maybe wrapped over lines (PDF text keeps the line breaks)
            wrapped.append((start, end))
            if got == wanted:
                fm.title, fm.title_span = title, (wrapped[0][0], end)
                fm.skip.extend(wrapped)
                continue
            if wanted.startswith(got + " "):
                continue
            break
        if fm.title_span is None and find_title and wanted is None and reads_as_title(line):
            fm.title, fm.title_span = plain, (start, end)
            fm.skip.append((start, end))
            continue
        break  # the body starts here
    if fm.skip and not _text_outside(text, fm.skip):
        # nothing but a header: the document is its title line (or its date) and that
        # is its content; a passage-less document could never be found
        fm.skip = []
        return fm
    _skip_further_down(fm, text)
    return fm


def _skip_further_down(fm: FrontMatter, text: str) -> None:
    """Share/print/comments bars below the header ("Share this article: Email | X"), and
    teasers and footers ("Related: …", "© 2024 …"): skipped too."""
    header_end = fm.skip[-1][1] if fm.skip else 0
    for start, end, raw in _lines(text, len(text)):
        if start <= header_end:
            continue
        plain = _plain(raw)
        if (len(raw) <= 120 and NAV_BAR.match(plain)) or (len(raw) <= 240 and _elsewhere(plain)):
            fm.skip.append((start, end))


def _read_metadata(
    fm: FrontMatter, line: str, span: tuple[int, int]
) -> Literal["date", "byline", "boilerplate"] | None:
    """Take a date, byline or boilerplate line into ``fm`` (its span skipped); which it
    was, or None for any other line."""
    date = parse_date(line)
    if date is not None:
        fm.published = fm.published or date
        fm.skip.append(span)
        return "date"
    by = _byline(line)
    if by is not None:
        author, published = by
        fm.author = fm.author or author
        fm.published = fm.published or published
        fm.skip.append(span)
        return "byline"
    if is_boilerplate(line):
        fm.skip.append(span)
        return "boilerplate"
    return None


def _text_outside(text: str, spans: list[tuple[int, int]]) -> bool:
    pos = 0
    for a, b in sorted(spans):
        if text[pos:a].strip():
            return True
        pos = max(pos, b)
    return bool(text[pos:].strip())


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s).strip().lower()


def source_label(title: str, published: str | None, author: str | None = None) -> str:
    """How a source is named to the model: ``Title (published March 4, 2024; by …)``."""
    extra = []
    if published:
        extra.append(f"published {published}")
    if author:
        extra.append(f"by {author}")
    return f"{title} ({'; '.join(extra)})" if extra else title
