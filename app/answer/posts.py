"""The posts a question asks about, and whose post it asks.

A name the sources give in one post does not answer a question about another: "the
head teacher of …" is not answered by a trust's chief executive. Each post is listed with
the ways a text may write it.
"""

from __future__ import annotations

import re

from app.text.words import UPPER

# posts a person holds: a name the sources give in another post does not answer a question
# about this one. Each post with the ways a text may write it.
_POSTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"head ?teachers?|headmaster|headmistress",
        ("head teacher", "headteacher", "headmaster", "headmistress", "principal"),
    ),
    (r"chief executives?|ceo", ("chief executive", "ceo")),
    (r"chair(?:s|ed|man|woman|person)?", ("chair",)),
    (r"(?:managing |finance |executive |project |operations )?directors?", ("director",)),
    (r"presidents?", ("president",)),
    (r"managers?", ("manager",)),
    (r"conductors?", ("conductor",)),
    (r"mayors?", ("mayor",)),
    (r"ministers?", ("minister", "ministry")),  # "the ministry, led by …"
    (r"secretar(?:y|ies)", ("secretary",)),
    (r"treasurers?", ("treasurer",)),
    (r"editors?", ("editor",)),
    (r"curators?", ("curator",)),
    (r"captains?", ("captain",)),
    (r"coach(?:es)?", ("coach",)),
    (r"governors?", ("governor",)),
    (r"deans?", ("dean",)),
    (r"trustees?", ("trustee",)),
)


def posts_asked(question: str) -> list[tuple[str, ...]]:
    """The posts the question asks about ("Who is the head teacher of …"), each as the
    ways a sentence may write it."""
    return [ways for pattern, ways in _POSTS if re.search(rf"\b(?:{pattern})\b", question, re.I)]


# whose post a question asks: "What is Priya Okonjo-Hale's job at …"
_ROLE_OF = re.compile(
    rf"({UPPER}[\w-]*(?:\s+{UPPER}[\w-]*)*)['’]s?\s+(?:job|role|post|position|title)\b"
)


def role_owner(question: str) -> set[str]:
    """The words of the name whose post the question asks ("What is Priya Okonjo-Hale's
    job?": priya, okonjo-hale), or none."""
    m = _ROLE_OF.search(question)
    return set(re.findall(r"[\w-]+", m.group(1).lower())) if m else set()
