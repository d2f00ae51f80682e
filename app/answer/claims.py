"""What an answer claims: the figures (each with its unit) and names it adds to the
question, and which of them make its key claim.

- a figure keeps the unit written around it: ``42%`` is not ``42 batteries``, ``$3
  million`` is not ``3 million visitors``, ``12,000 tonnes`` is not ``12,000 people``;
- a name is a capitalised word the question does not use (a word that opens a sentence
  counts only when the sources have it capitalised too);
- an answer with neither claims the content words it adds;
- the claim is the answer's first sentence, or, for a question in two parts, its first
  two sentences that say more than where the answer is from.

:mod:`app.answer.verify` then looks for the sentence of the sources that states them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answer.grounding import _MARKERS, Figure, figures
from app.text.sentences import prose_sentences
from app.text.words import STOPWORDS as _STOP
from app.text.words import UPPER, stem
from app.text.words import content_stems as _stems

# fmt: off
_NOT_NAMES = frozenset("""
a an and as according also answer based both but by for from he her his however i if in it
its no not of on or she so source sources that the their these they this those to we while
with yes there here what when where which who thus therefore overall note although because
since unlike like after before during yet still then
""".split())  # noqa: SIM905
# fmt: on
_NAME = re.compile(rf"(?<![\w'’-]){UPPER}[\w'’-]*")
_JOINS = r"\s+(?:of\s+)?"  # what may stand between two words of one name
_PERCENT = re.compile(r"%|\bper ?cent\b", re.I)
_CURRENCY = re.compile(r"[$€£¥]|\b(?:usd|eur|gbp|dollars?|euros?|pounds?|yuan)\b", re.I)
# questions whose answer is a quantity ("what typical LoRA rank"): an answer without one
# ("The LoRA rank is a low-rank factor …") does not answer them
_QUANTITY = (
    r"how (?:many|much|long|far|big|large|old|high|tall|fast|wide|deep|heavy)"
    r"|what (?:[\w-]+ ){0,2}?(?:share|percentage|proportion|fraction|number|amount|cost"
    r"|price|size|length|rate|age|rank|score|speed|capacity|population|budget|total"
    r"|temperature|distance|height|weight|depth|width|duration|count|fee|salary)"
)
_ASKS_QUANTITY = re.compile(rf"\b(?:{_QUANTITY})\b", re.I)
# questions whose answer is a figure (or a date): every figure of the answer is its claim.
# "when" asks only as a question word ("When did …", "…, and when …"), not in "used when"
_ASKS_FIGURE = re.compile(
    rf"\b(?:{_QUANTITY}|what (?:year|date|day|month|time)|which (?:year|date|day|month))\b"
    r"|(?:^\s*|[,;]\s*|\b(?:and|since|until|by|from)\s+)when\b",
    re.I,
)
_ASKS_DATE = re.compile(r"\b(?:what|which) (?:date|day|year|month)\b", re.I)
# "When did …?", not "When Fellwing lost its slots, how many did it have?"
_ASKS_WHEN = re.compile(
    r"^\s*when\s+(?:did|does|do|was|were|is|are|will|would|has|have|had|can|could)\b", re.I
)
_SEASON = re.compile(r"\b(?:spring|summer|autumn|winter)\b|\b(?:in|the|last|that)\s+fall\b", re.I)
_CALENDAR = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.I,
)
# a quantity in words: "thirty-six", "half", "twice"
_NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fifteen"
    r"|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million"
    r"|billion|half|third|quarter|dozen|once|twice)\b",
    re.I,
)
# "as stated in [1]", "the information provided", "according to": how the model cites, not
# what it claims
_ATTRIBUTION = frozenset(
    {"stat", "mention", "accord", "inform", "information", "cit", "refer", "indicat", "provid"}
)
# words of a sentence that only says where the answer is from ("This can be found in [1].")
_WHERE = frozenset(map(stem, "found find seen see source sources quote text passage".split()))  # noqa: SIM905
_SCALES = frozenset({"thousand", "million", "billion", "trillion", "k", "m", "bn", "b", "t"})
# a comparison between a figure and what it counts: "270 fewer babies", "12 more staff"
_COMPARED = frozenset({"more", "fewer", "less", "extra", "additional"})

# "When did X open, and how many people does it employ?" asks two things
_PART_BREAK = re.compile(
    r"(?:,\s*|\s+)(?:and|while|but)\s+(?:(?:on|in|at|by|for|from|to|with|of)\s+)?"
    r"(?=(?:how|what|when|where|who|whom|whose|which|why)\b)"
    r"|[?;]\s+",
    re.I,
)


def question_parts(question: str) -> list[str]:
    parts = [p for p in _PART_BREAK.split(question) if p.strip()]
    return parts or [question]


def names_in(text: str, known: str = "") -> set[str]:
    """Capitalised words, lower-cased. A word that opens a sentence counts only when
    ``known`` (the passages) has it capitalised too: "Developed by…" names nothing."""
    out = set()
    text = _MARKERS.sub(" ", text)
    for m in _NAME.finditer(text):
        word = re.sub(r"['’]s?$", "", m.group(0)).strip("-")
        if not word or word.lower() in _NOT_NAMES or re.fullmatch(r"[A-Z]{2,}s", word):
            continue  # "LLMs", "GPUs": kinds of thing, not names
        opens = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in ".!?:\n"
        if opens and not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", known):
            continue
        out.add(word.lower())
    return out


def name_phrases(text: str) -> list[frozenset[str]]:
    """The names of :func:`names_in` grouped as written: "Caddisford Central Library"
    is one name of three words; "Meta's Llama 2" is two names (a possessive ends one)."""
    kept = names_in(text)
    text = _MARKERS.sub(" ", text)
    phrases: list[set[str]] = []
    end = -1  # where the name being read ends; -1 when none is
    for m in _NAME.finditer(text):
        word = re.sub(r"['’]s?$", "", m.group(0)).strip("-").lower()
        if word not in kept:
            end = -1
            continue
        if end >= 0 and re.fullmatch(_JOINS, text[end : m.start()]):
            phrases[-1].add(word)
        else:
            phrases.append({word})
        end = -1 if m.group(0).endswith(("'s", "’s")) else m.end()
    return [frozenset(p) for p in phrases]


@dataclass(frozen=True)
class FigureUse:
    figure: Figure
    text: str  # as written
    percent: bool
    currency: bool
    unit: str | None  # stem of the word that follows (tokens, layers, visitors…)
    following: tuple[str, ...] = ()  # stems of the few words after it


def figure_uses(text: str) -> list[FigureUse]:
    """Each figure in ``text`` with the unit written around it."""
    text = _MARKERS.sub(" ", text)
    uses = []
    for m in re.finditer(r"(?<![\w-])[$€£¥]?\s?\d(?:[\d,.]*\d)?(?:\s?%)?", text):
        raw = m.group(0).strip()
        found = figures(raw.lstrip("$€£¥ ").rstrip("%").strip() or raw)
        if not found:
            continue
        before = text[max(0, m.start() - 12) : m.start()]
        after = text[m.end() : m.end() + 40]
        words = re.findall(r"[A-Za-z%][A-Za-z'’-]*|%", after)
        scale = ""
        if words and words[0].lower().split("-")[0] in _SCALES:  # "6-billion-parameter"
            head, _, rest = words.pop(0).partition("-")
            scale = head
            if rest:
                words.insert(0, rest)
        # a scale word follows the figure ("18.9 million"); a sum of money may have a letter
        # for it ("£18.9m", "£2bn"), while "68 m" is metres and "5.9 t" tonnes
        money = bool(_CURRENCY.search(raw + " " + before[-6:]))
        glue = "" if money and scale.lower() in ("k", "m", "bn") else " "
        full = figures(raw.lstrip("$€£¥ ").rstrip("% ") + (f"{glue}{scale}" if scale else ""))
        percent = "%" in raw or bool(_PERCENT.match(after.lstrip()))
        currency = bool(_CURRENCY.search(raw + " " + before[-6:])) or bool(
            words and _CURRENCY.fullmatch(words[0])
        )
        unit = None
        # "270 fewer babies" counts babies; "fell to 870, partly because …" counts nothing
        counted = words[1:] if words and words[0].lower() in _COMPARED else words
        if counted and re.search(r"[,;:()]", after[: after.find(counted[0])]):
            counted = []
        if counted and not percent:
            parts = counted[0].lower().split("-")
            # "human-labelled" → human; a plural compound is its last part: "lock-keepers"
            plural = parts[-1].endswith("s") and not parts[-1].endswith(("ss", "us"))
            first = parts[-1] if len(parts) > 1 and plural else parts[0]
            if first not in _STOP and first not in ("percent", "cent"):
                unit = stem(first)
        following = tuple(stem(p) for w in words[:4] for p in w.split("-") if p)
        for f in full or found:
            uses.append(FigureUse(f, raw, percent, currency, unit, following))
    return uses


_MONEY_WORDS = frozenset(
    map(stem, "dollar pound euro yen yuan franc krona rupee sterling cent penny pence".split())  # noqa: SIM905
)


# words that count the same people: "20,874 fans" are the "20,874 supporters" of the source
_PEOPLE = frozenset(map(stem, "people persons".split()))  # noqa: SIM905
_SAME_KIND = (
    frozenset(map(stem, "fans supporters spectators attendees crowd".split())) | _PEOPLE,  # noqa: SIM905
    frozenset(map(stem, "staff employees workers".split())) | _PEOPLE,  # noqa: SIM905
)


def _kind_of(unit: str) -> set[str]:
    """The unit with the words that count the same things as it."""
    return {unit}.union(*(kind for kind in _SAME_KIND if unit in kind))


def figure_stated(use: FigureUse, sentence: str) -> bool:
    """The sentence gives the same figure with a compatible unit: the answer's unit
    follows the figure, or occurs in the sentence without belonging to another figure
    ("33 start-ups and listed companies in its portfolio" states "33 portfolio
    companies"; "12,000 tonnes … employs 140 people" does not state "12,000 people")."""
    uses = figure_uses(sentence)
    for other in uses:
        if other.figure.number != use.figure.number:
            continue
        if use.figure.prefix and other.figure.prefix != use.figure.prefix:
            continue
        if use.percent != other.percent:
            continue  # 42% is not 42 of anything
        if use.currency and not other.currency:
            continue
        if other.currency and not use.currency and use.unit and use.unit not in _MONEY_WORDS:
            continue  # "£118 million" is no "118 million seats"
        if use.unit is None:
            return True
        # the answer's unit must follow the figure in the sentence (within a few words)
        if _kind_of(use.unit) & set(other.following):
            return True
        if other.unit is None:
            if other.following[:1] in (("to",), ("and",), ("or",)):
                continue  # "from 7B to 70B parameters": a range's unit follows its end
            return True  # the sentence gives the figure bare: the unit comes from the subject
        owned = {u.unit for u in uses if u.figure != other.figure}
        if use.unit in _stems(sentence) and use.unit not in owned:
            return True
    return False


def claim_units(
    answer: str, question: str, known: str = ""
) -> tuple[list[FigureUse], set[str], set[str]]:
    """The figures and names the answer adds to the question, and, when it adds neither,
    the content words it adds. ``known``: the passages' text (see ``_names``)."""
    answer = answer_proper(answer, question)
    asked_figs = {f.number for f in figures(question)}
    asked_figs |= {u.figure.number for u in figure_uses(question)}
    figs = [u for u in figure_uses(answer) if u.figure.number not in asked_figs]
    q_lower = question.lower()
    names = {n for n in names_in(answer, known) if n not in q_lower}
    words: set[str] = set()
    if not figs and not names:
        words = _stems(answer) - _stems(question) - _ATTRIBUTION
    return figs, names, words


_ASKS_WHICH = re.compile(r"\s*which\b", re.I)  # "Who …?": see mismatch.contradiction


def _new_names(sentence: str, question: str) -> set[str]:
    return {n for n in names_in(sentence, sentence) if n not in question.lower()}


def answer_proper(answer: str, question: str) -> str:
    """The sentences of the answer that make its claim: the first; for a question in two
    parts, the first two that say more than where the answer is from ("This information
    is in [1]."), since the second part is often answered in a second sentence."""
    sentences = [s.text for s in prose_sentences(_MARKERS.sub(" ", answer).strip())]
    if not sentences:
        return answer
    if len(question_parts(question)) < 2:
        # asked which one, a first sentence that names nothing new restates the question
        # ("Llama 2-Chat beats open models."): the claim is the second, if it names one
        if _ASKS_WHICH.match(question) and not _new_names(sentences[0], question):
            return next((s for s in sentences[1:2] if _new_names(s, question)), sentences[0])
        return sentences[0]
    claims = [s for s in sentences if _stems(s) - _stems(question) - _ATTRIBUTION - _WHERE]
    return " ".join(claims[:2] or sentences[:1])


def quantity_missing(answer: str, question: str) -> bool:
    """A one-part question asks for a quantity ("How many …", "What share …") or a date
    ("On what date …", "In which year …") and the answer's claim gives none: no figure, no
    number in words, and for a date no month or weekday ("in the spring" is no date;
    asked only "When …?", a season answers, "last year" does not)."""
    if len(question_parts(question)) > 1:
        return False
    claim = _MARKERS.sub(" ", answer_proper(answer, question))
    if _ASKS_DATE.search(question):
        return not (re.search(r"\d", claim) or _CALENDAR.search(claim))
    if _ASKS_WHEN.search(question):  # a season will do; "last year" or "recently" will not
        return not (re.search(r"\d", claim) or _CALENDAR.search(claim) or _SEASON.search(claim))
    if not _ASKS_QUANTITY.search(question):
        return False
    return not (re.search(r"\d", claim) or _NUMBER_WORDS.search(claim))


def share_for_count(question: str, figs: list[FigureUse]) -> bool:
    """A one-part question asks how many ("How many members voted for it?") and the
    first figure the answer adds, the one it answers with, is a percentage ("88% of those
    who voted"): a share read as a count. A question that asks for a share is not one."""
    if len(question_parts(question)) > 1 or not re.search(r"\bhow many\b", question, re.I):
        return False
    if _PERCENT.search(question) or re.search(
        r"\b(?:share|proportion|fraction|percentage)\b", question, re.I
    ):
        return False
    return bool(figs) and figs[0].percent


def money_for_count(question: str, figs: list[FigureUse]) -> bool:
    """A one-part "how many" question ("How many members pay for the top tier?") answered
    with a sum of money: a price is no count. A question that names a currency ("how many
    dollars") asks for one."""
    if len(question_parts(question)) > 1 or not re.search(r"\bhow many\b", question, re.I):
        return False
    return bool(figs) and figs[0].currency and not _CURRENCY.search(question)


# "How much did X invest / pay / cost …": a sum of money, or a change in one (a percentage)
_ASKS_MONEY = re.compile(
    r"\bhow much\b.*\b(?:invest(?:ed|s)?|pa(?:y|id|ys)|costs?|spen[dt]|spends|raised?|funded"
    r"|lend|lent|borrow(?:ed)?|earn(?:ed|s)?|worth|price)\b",
    re.I,
)
# units of energy, power, mass, length, area or volume: never a sum of money
_MEASURE_WORDS = (
    "gwh mwh kwh twh gw mw kw tonnes tons kg km metres meters miles hectares acres litres"
    " liters gallons barrels"
)
_MEASURES = frozenset(stem(w) for w in _MEASURE_WORDS.split())


def money_missing(question: str, figs: list[FigureUse]) -> bool:
    """A one-part question asks how much money ("How much did Zavor invest in Ostrel?")
    and the figure the answer gives first is a physical quantity ("6 GWh of cells a
    year"). Any other unit may name a currency ("2.1 billion dukats")."""
    if len(question_parts(question)) > 1 or not _ASKS_MONEY.search(question) or not figs:
        return False
    first = figs[0]
    return not (first.currency or first.percent) and first.unit in _MEASURES


def key_units(
    answer: str, question: str, figs: list[FigureUse], names: set[str], titles: str = ""
) -> list[str]:
    """The units that make the answer's key claim. A one-part question that asks for a
    figure is answered by the figures; one that asks for anything else by the first name
    the answer gives (with the words of the same proper name: "Vostra Works"), the rest of
    the sentence being what the model adds about it ("Gecko, which Google made…"). When
    the answer has no unit of the kind asked, or the question has two parts, all count."""
    every = [u.text for u in figs] + sorted(names)
    if len(question_parts(question)) > 1:
        return every
    if _ASKS_FIGURE.search(question):
        return [u.text for u in figs] or every
    text = _MARKERS.sub(" ", answer)
    titled = set(re.findall(r"[\w'’-]+", titles.lower()))
    # the proper names of the answer, as runs of capitalised words; the first whose new
    # names are not all the title of a source, the question's subject restated in full
    # ("The Lower Lathe Flood Alleviation Scheme was designed by …"), answers it
    for run in re.finditer(rf"(?<![\w'’-]){UPPER}[\w'’-]*(?:\s+(?:of\s+)?{UPPER}[\w'’-]*)*", text):
        words = {re.sub(r"['’]s?$", "", w).strip("-") for w in run.group(0).lower().split()}
        key = sorted(names & words)
        if key and not set(key) <= titled:
            return key
    return every


def wrong_kind(answer: str, question: str, figs: list[FigureUse]) -> str:
    """Why the answer is not of the kind the question asks for ("" when it is): no figure
    for a quantity, no date for a date, a percentage for a count, a bare number for "how much"."""
    if quantity_missing(answer, question):
        return "the question asks for a quantity or a date; the answer gives none"
    if share_for_count(question, figs):
        return "the question asks how many; the answer gives a percentage"
    if money_for_count(question, figs):
        return "the question asks how many; the answer gives a sum of money"
    if money_missing(question, figs):
        return "the question asks how much money; the answer gives another quantity"
    if _bare_for_amount(question, figs):
        return "the question asks how much; the answer gives a bare number, with no unit"
    return ""


_HOW_MUCH = re.compile(r"\bhow much\b", re.I)


def _bare_for_amount(question: str, figs: list[FigureUse]) -> bool:
    """Asked how much, no figure of the answer has a unit, currency or percent sign ("41
    to 33 megalitres" has one: the range's unit)."""
    if len(question_parts(question)) > 1 or not _HOW_MUCH.search(question) or not figs:
        return False
    return not any(f.currency or f.percent or f.unit for f in figs)
