"""Worked examples the model reads before every question (``RAGQA_PROMPT_EXAMPLES``).

A 1.5B model follows a shown answer far better than a described one: fact first, short,
cited, the sources' own figure with its own unit, and the fixed refusal when the sources
give a figure or a name for something *else* than what is asked. The examples are fixed
turns placed right after the system prompt, so they are part of the prefix llama.cpp keeps
in its KV cache: evaluated once at start-up (the warm-up), free for every question after.

They are about an invented subject (a town's footbridge), written for this purpose, and
share no wording with any corpus or question set in the repository.
"""

from __future__ import annotations

from app.answer.prompt import REFUSAL, SourcePassage, format_user

_LABEL = "Millbeck footbridge repairs (published 14 May 2022)"

_SOURCES = [
    SourcePassage(
        1,
        _LABEL,
        "Costs",
        "Millbeck Town Council approved £2.3 million for the repairs in March 2021. "
        "About 40 per cent of that sum came from a regional transport grant. The bridge "
        "carries roughly 6,500 walkers and cyclists on a typical weekday.",
    ),
    SourcePassage(
        2,
        _LABEL,
        "The works",
        "Corra Civil, a contractor from Dunmere, replaced the deck over eleven weeks. "
        "The council's chief engineer, Ruth Abara, signed off the new deck in October 2021, "
        "and the bridge reopened two days later.",
    ),
]

# (question, answer): three answered (a figure with its unit; a name with the role the
# sources give it; an event's date, not the article's), two refused although their words are in the sources (a figure the
# sources give for another thing; a post the sources never give anyone).
_TURNS = [
    (
        "How much money did the council approve for fixing the bridge?",
        "The council approved £2.3 million for the repairs [1].",
    ),
    (
        "How many workers did Corra Civil employ on the bridge?",
        REFUSAL,
    ),
    (
        "Which company replaced the bridge deck?",
        "Corra Civil, a contractor from Dunmere, replaced the deck [2].",
    ),
    (
        "Who was Corra Civil's site manager?",
        REFUSAL,
    ),
    (
        "When did the footbridge open again?",
        "The bridge reopened in October 2021, two days after the new deck was signed off [2].",
    ),
]


def example_messages() -> list[dict[str, str]]:
    """The worked examples as alternating user/assistant chat turns."""
    out: list[dict[str, str]] = []
    for question, answer in _TURNS:
        out.append({"role": "user", "content": format_user(question, _SOURCES)})
        out.append({"role": "assistant", "content": answer})
    return out


def prompt_examples(enabled: bool) -> list[dict[str, str]]:
    """The example turns when ``RAGQA_PROMPT_EXAMPLES`` is on, else none."""
    return example_messages() if enabled else []
