"""Answers that do not answer the question on their face, whatever the sources say.

A small model asked about something the sources never give still answers, with the
nearest thing they do give, and its own words then show the swap:

- asked *who*, it names no one the question does not already name ("Who took over from
  Teodora Vance?" → "Teodora Vance took over from her position …");
- asked for a person's post *at* one organisation, it gives a post at another ("What is
  Gideon Thrale's job at HalbrookNet?" → "… an economist at the Pallister Institute");
- asked how many *of* a whole, it gives a part larger than the whole ("14,000 of
  Tellurion's 610 contributors");
- asked for a stake or a share, it gives a count of things ("14,000 paying customers");
- asked how tall, long, wide or deep, it gives another measure ("How tall are the walls?"
  → "1.9 km long");
- asked what post or role a person has, it gives a holding instead ("What role does X
  have at the bank?" → "X holds 72% of the shares");
- asked what one party pays another, it says what one charges or receives ("How much does
  the airport pay Fellwing?" → "The airport charges Fellwing $14").

:func:`reversed_transfers` reads a source sentence the same way: "Halvard gives the Trust
$1.2 million" does not say what the Trust pays Halvard.

Each is read from the question and the answer's first sentence alone, so it holds on any
text. :func:`contradiction` says which, or "".
"""

from __future__ import annotations

import re

from app.answer.arithmetic import joint_answer
from app.answer.claims import FigureUse, answer_proper, question_parts
from app.text.words import UPPER, last_at

_NAME = rf"{UPPER}[\w'’&.-]*(?:\s+(?:of\s+|for\s+|&\s+)?{UPPER}[\w'’&.-]*)*"
# "What is X's job at Y", "What does X do at Y", "What position does X hold at Y"
_POST_AT = re.compile(
    rf"\b(?:job|role|position|post|title|do|does|work|works)\b.*?\bat\s+(?:the\s+)?({_NAME})"
)
# "Which Nvidia scientist …?", "the Google engineer who …": a person asked by where they work
_WORKER_AT = re.compile(
    rf"\b(?:[Ww]hich|[Ww]hat|[Tt]he|[Aa]n?)\s+({_NAME})\s+(?:scientist|engineer|researcher|"
    r"analyst|economist|official|spokes(?:wo)?man|spokesperson|executive|professor|lawyer|"
    r"adviser|advisor|manager|designer|developer|founder|investor)s?\b"
)
_AT = re.compile(rf"\b(?:at|with|for)\s+(?:the\s+)?({_NAME})")
_PART_OF = re.compile(
    r"(?<![\w.,$€£¥])(\d[\d,]*(?:\.\d+)?)\s+(?:of|out of)\s+(?:the\s+|its\s+|their\s+|"
    rf"{UPPER}[\w'’-]*['’]s?\s+){{0,3}}(\d[\d,]*(?:\.\d+)?)(?![\d,.]*\s*(?:%|per|thousand|million|"
    r"billion|trillion|bn|m\b|k\b))"
)
_ASKS_SHARE = re.compile(
    r"\b(?:how (?:big|large) a (?:stake|share)|what (?:[\w-]+ ){0,2}?(?:stake|share|"
    r"percentage|proportion|fraction))\b",
    re.I,
)
# "how tall", "what height": the dimension asked, and the words an answer gives it with
_DIMENSIONS = {
    "height": r"tall|high|height",
    "length": r"long|length",
    "width": r"wide|width|broad",
    "depth": r"deep|depth",
}
_ASKS_POST = re.compile(
    r"\b(?:what|which) (?:role|position|post|job|title)\b"
    r"|\bwhat does \w+(?: \w+)? do(?:\s+(?:at|for)\b|\s*\?)",  # not "do with the levy"
    re.I,
)


_PARTY = rf"(?:the\s+[a-z][\w-]*|(?:the\s+)?{UPPER}[\w'’&.-]*(?:\s+(?:&\s+)?{UPPER}[\w'’&.-]*)*)"
_ASKS_TRANSFER = re.compile(
    rf"\b(?:does|did|do|will|would|should)\s+(?P<payer>{_PARTY})\s+(?:have to\s+)?"
    rf"(?:pay|give|lend|owe)\s+(?P<payee>{_PARTY})"
)
_TRANSFER = re.compile(
    r"\b(?:pay|pays|paid|paying|give|gives|gave|given|giving|lend|lends|lent|lending|owe|owes"
    r"|owed|buy|buys|bought|buying|purchas\w*|(?P<sell>sell|sells|sold|selling))\b",
    re.I,
)
_CONVERSE = re.compile(
    r"\b(?:charg\w*|receiv\w*|earn\w*|collect\w*|gets?|got|bill(?:s|ed|ing)?)\b", re.I
)
# "is paid … by": the one before the verb is the payee, as the question has it
_PARTICIPLE = re.compile(r"(?:paid|given|lent|owed)\s+(?:over\s+)?to\b", re.I)
_PAID_TO = re.compile(rf"\s+(?:over\s+)?to\s+(?:the\s+)?({_PARTY})")
_PASSIVE = re.compile(r"\b(?:is|was|are|were|be|been|being)\s+(?:\w+\s+)?$", re.I)


def _parties(question: str) -> tuple[set[str], set[str]] | None:
    """Who pays and who is paid in "How much does A pay B …?", as words; None otherwise."""
    m = _ASKS_TRANSFER.search(question)
    if m is None:
        return None
    return _words(m.group("payer")) - {"the"}, _words(m.group("payee")) - {"the"}


def reversed_transfers(question: str, sentence: str) -> list[tuple[int, bool]]:
    """Each paying (giving, lending, buying, selling) verb of the sentence, with whether it has the
    question's payee paying rather than its payer: the party named nearest before an
    active verb is the one who pays ("… ordered Anselby to pay the costs of the
    cooperative" for "How much did the cooperative have to pay Anselby?"). Empty when the
    question asks no "how much does A pay B"."""
    parties = _parties(question)
    if parties is None:
        return []
    payer, payee = parties
    out = []
    for verb in _TRANSFER.finditer(sentence):
        before = sentence[max(0, verb.start() - 60) : verb.start()].lower()
        to = _PAID_TO.match(sentence, verb.end())
        if to and not verb["sell"] and _words(to.group(1)) & payer:
            out.append((verb.start(), True))  # "$31 million, paid to Tessen": Tessen is paid
            continue
        if _PASSIVE.search(before):
            out.append((verb.start(), False))  # "Fellwing is paid $14 by the airport"
            continue
        last_payer = last_at(payer, before)
        last_payee = last_at(payee, before)
        # the one who buys pays; the one who sells is paid
        out.append(
            (verb.start(), (last_payer > last_payee) if verb["sell"] else (last_payee > last_payer))
        )
    return out


def after_reversed(text: str, figure: str, verbs: list[tuple[int, bool]]) -> bool:
    """The figure is written after a paying verb that has the wrong party paying, with no
    other paying verb between (in "A pays B $14, and B pays A a $2 fee" only $2 is B's),
    or just before one that opens a clause about it ("$31 million that year, paid to …")."""
    at = text.find(figure)
    if at < 0:
        return False
    end = at + len(figure)
    then = [
        rev
        for start, rev in verbs
        if end <= start <= end + 40
        and _PARTICIPLE.match(text, start)
        and text[:start].endswith(", ")
    ]
    if then:
        return then[0]
    last = [rev for start, rev in verbs if start < at]
    return bool(last) and last[-1]


def _converse_by_payer(claim: str, question: str) -> bool:
    """The answer has the question's payer charging or receiving instead of paying:
    "Carrowmere Airport charges Fellwing $14" (not "Fellwing receives $14 from it")."""
    parties = _parties(question)
    if parties is None or _TRANSFER.search(claim):
        return False
    m = _CONVERSE.search(claim)
    if m is None:
        return False
    before = claim[: m.start()].lower()
    return last_at(parties[0], before) > last_at(parties[1], before)


def _gives(claim: str, dimension: str) -> bool:
    """The answer gives a figure in ``dimension`` (anywhere: "45 metres wide and 2,400
    metres long" gives a width)."""
    words = _DIMENSIONS[dimension]
    return bool(
        re.search(rf"\d[\d.,]*\s*(?:[a-z]+\s+)?(?:{words})\b|\b(?:{words}) of", claim, re.I)
    )


def _dimension(text: str, asked: bool) -> str | None:
    """The dimension a question asks ("how tall", "what is the height") or, ``asked``
    False, the one an answer's figure is given in ("1.9 km long", "a height of 4 m")."""
    for name, words in _DIMENSIONS.items():
        pattern = (
            rf"\bhow (?:{words})\b|\bwhat (?:is |was |are |were )?(?:the )?(?:{words})\b"
            if asked
            else rf"\d[\d.,]*\s*(?:[a-z]+\s+)?(?:{words})\b|\b(?:{words}) of (?:about |some )?\d"
        )
        if re.search(pattern, text, re.I):
            return name
    return None


def contradiction(answer: str, question: str, figs: list[FigureUse], names: set[str]) -> str:
    """Why the answer, as written, does not answer the question ("" when nothing shows)."""
    claim = answer_proper(answer, question)
    one_part = len(question_parts(question)) == 1
    if one_part and re.match(r"\s*who\b", question, re.I) and not names:
        return "the question asks who; the answer names no one the question does not"
    elsewhere = _post_elsewhere(claim, question)
    if elsewhere:
        return elsewhere
    for part, whole in _PART_OF.findall(claim):
        if _value(part) > _value(whole):
            return f"the answer gives {part} of {whole}: a part larger than its whole"
    asked, given = _dimension(question, True), _dimension(claim, False)
    if one_part and asked and given and asked != given and not _gives(claim, asked):
        return f"the question asks for a {asked}; the answer gives a {given}"
    if one_part and figs and joint_answer(claim, question):
        return "the answer gives a figure shared by several; the question asks about one"
    if one_part and _converse_by_payer(claim, question):
        return "the question asks what one pays the other; the answer gives what is charged or received"
    if one_part and _ASKS_POST.search(question) and any(f.percent for f in figs):
        return "the question asks for a post; the answer gives a holding"
    if one_part and _ASKS_SHARE.search(question) and figs:
        first = figs[0]
        if not first.percent and not first.currency and first.unit is not None:
            return "the question asks for a stake or share; the answer gives a count"
    return ""


def post_place(question: str) -> frozenset[str]:
    """The words of the organisation a question asks a person's post at ("What position
    does Radek Vojtek hold at the Commons Software Trust?"), or none."""
    asked = _POST_AT.search(question)
    return frozenset(_words(asked.group(1))) if asked else frozenset()


def _post_elsewhere(claim: str, question: str) -> str:
    asked = _POST_AT.search(question) or _WORKER_AT.search(question)
    if asked is None:
        return ""
    place = _words(asked.group(1))
    m = _AT.search(claim)  # the first place the answer puts the post
    if m is None or place & _words(claim[: m.start()]):
        return ""  # "… the CEO of Mistral AI, who worked at DeepMind": asked place first
    given = _words(m.group(1))
    here, there = (re.sub(r"\W", "", n.lower()) for n in (m.group(1), asked.group(1)))
    same = here in there or there in here  # "HuggingFace" is "Hugging Face"
    if given and not given & place and not same and not given <= _words(question):
        return (
            f"the question asks about a post at {asked.group(1)}; the answer gives one "
            f"at {m.group(1)}"
        )
    return ""


def _words(name: str) -> set[str]:
    return {w for w in re.findall(r"[\w'’&-]+", name.lower()) if w not in ("of", "for", "&")}


def _value(number: str) -> float:
    return float(number.replace(",", ""))
