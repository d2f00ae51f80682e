"""From the model's raw text to an honest answer: valid [n] markers, refusals detected.

- ``[n]``, ``[n, m]``, ``[n-m]`` and ``[Source n]`` are understood; markers that point at no
  source are removed.
- An answer that is a refusal ("the sources do not contain…") is flagged unanswerable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.text.sentences import first_sentence

_MARKER = re.compile(
    r"\s?\[(?:sources?\s*)?(\d+(?:\s*(?:[,;–-]|and)\s*(?:source\s*)?\d+)*)\]", re.I
)
_NUM = re.compile(r"\d+")

_REFUSAL_PATTERNS = [
    r"(?:sources?|context|text|passages?|articles?|documents?|information)(?: information)?(?: provided| given)? (?:do|does|did)(?: not|n't) (?:contain|mention|provide|include|say|state|specify|give)",
    r"(?:not|no(?:where)?) (?:\w+ly )?(?:mentioned|stated|specified|provided|given|included|found|available|disclosed|reported) in (?:the |that |this |these |those |any of the |any )?(?:provided |given |above )?(?:sources?|text|context|passages?|articles?|documents?|information)",
    # LlamaIndex's answer when nothing was retrieved or generated
    r"^\s*empty response\s*\.?\s*$",
    r"\bnone of the (?:provided |given )?(?:sources|passages|articles|documents|texts) (?:mentions?|contains?|states?|says?|provides?|gives?|specif(?:y|ies))",
    r"\b(?:answer|information) (?:is|was) not (?:\w+ )?(?:in|within|present in|contained in|included in) the (?:provided |given )?(?:sources?|context|text|passages?|articles?|documents?)",
    r"\b(?:not|impossible) (?:possible )?to (?:determine|answer|say|tell|know)\b",
    r"\b(?:i|we) (?:could not|couldn't) (?:find|determine|answer)\b",
    r"\bi (?:do not|don't) have (?:any |enough )?(?:information|details|data)\b",
    r"\bno answer (?:can|could) be (?:found|given|determined)\b",
    # "…'s score on MMLU was not provided." — a gap stated as the whole sentence
    r"\b(?:is|are|was|were) not (?:\w+ly )?(?:mentioned|stated|specified|provided|given|disclosed|reported)\s*[.!]?$",
    r"\bno (?:information|mention|details?|data) (?:about|on|regarding|of|is|in)",
    r"\b(?:cannot|can't|can not|unable to) (?:be )?(?:answer|determine|find|answered|determined|found)",
    r"\bi (?:do not|don't) know\b",
    r"\bnot (?:enough|sufficient) information\b",
    r"\bthere is no (?:information|mention)\b",
]
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in _REFUSAL_PATTERNS), re.I)


@dataclass
class ParsedAnswer:
    text: str  # the answer with invalid markers removed
    cited: list[int]  # valid source numbers, in order of first citation
    removed_markers: int


def _expand(spec: str) -> list[int]:
    nums = [int(n) for n in _NUM.findall(spec)]
    if len(nums) == 2 and re.search(r"[–-]", spec) and nums[0] < nums[1] <= nums[0] + 10:
        return list(range(nums[0], nums[1] + 1))
    return nums


def parse_citations(raw: str, n_sources: int) -> ParsedAnswer:
    cited: list[int] = []
    removed = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal removed
        nums = _expand(m.group(1))
        valid = [n for n in nums if 1 <= n <= n_sources]
        removed += len(nums) - len(valid)
        if not valid:
            return ""
        for n in valid:
            if n not in cited:
                cited.append(n)
        lead = " " if m.group(0).startswith((" ", "\n", "\t")) else ""
        return lead + "".join(f"[{n}]" for n in dict.fromkeys(valid))

    text = _MARKER.sub(repl, raw)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text).strip()
    return ParsedAnswer(text=text, cited=cited, removed_markers=removed)


def is_refusal(text: str) -> bool:
    """True when the answer says the sources do not hold the answer.

    Only the opening of the answer is read: an answer that gives facts and then notes a
    gap ("…, but the sources do not mention X") is still an answer.
    """
    stripped = _MARKER.sub("", text).strip()
    if not stripped:
        return True
    first = first_sentence(stripped)
    return bool(_REFUSAL.search(first))
