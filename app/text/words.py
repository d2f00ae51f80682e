"""Words for matching a question with a sentence: a crude stemmer, stop words, and the
stemmed content words of a text. Retrieval (sentence windows) and the answer checks use
the same ones, so both judge "about the question" alike."""

from __future__ import annotations

import re

# letters of any script ("Brůnov", "Ștefănescu" are one word each), and the capitals that
# open a name: ASCII, Latin-1 and Latin Extended-A (which mixes both cases, so "ě" is read
# as one too; no English word opens with it), and the comma-below Ș and Ț
LETTER = r"[^\W\d_]"
UPPER = "[A-ZÀ-ÖØ-ÞĀ-ſȘȚ]"
_MARKERS = re.compile(r"(?:\s?\[\d+\])+")
_WORD = re.compile(rf"{LETTER}(?:{LETTER}|['’])*|\d[\d,.]*%?")
# fmt: off
STOPWORDS = frozenset("""
a an the of to in on for and or is are was were be been being by with as at from that this
these those it its which who whom whose what when where why how did does do done has have
had not no than into about according sources source article articles text passage says
said say many much number amount total kind type there their they them he she his her we
our you your i me my can could would should will may might must also any some all each
per very just only more most less least over under after before during while between up
down out off then so such if but both either neither whether rather quite roughly about
approximately around exactly least called named known tell give given use used using
""".split())  # noqa: SIM905
# fmt: on


# irregular verb forms, nouns for the one who does it too short for the rule below, and
# nouns for the deed: "built by" answers "which firm builds", "owned by" answers "who is
# the owner", "flights" answers "when did it start flying"; "went bust" is "went bankrupt",
# and what shut, or its closure, closed
# fmt: off
_IRREGULAR = dict(pair.split(":") for pair in """
built:build paid:pay sold:sell made:make won:win held:hold ran:run began:begin begun:begin
grew:grow grown:grow bought:buy rose:rise risen:rise fell:fall fallen:fall took:take
taken:take brought:bring spent:spend drew:draw drawn:draw wrote:write written:write
chose:choose chosen:choose sent:send lent:lend kept:keep lost:lose told:tell shown:show
flew:fly flown:fly stood:stand struck:strike became:become taught:teach caught:catch
sought:seek fought:fight thought:think threw:throw thrown:throw owner:own owners:own
flight:fly flights:fly sale:sell sales:sell growth:grow loss:lose losses:lose choice:choose
bust:bankrupt bankruptcy:bankrupt insolvent:bankrupt insolvency:bankrupt establish:found
established:found establishes:found shut:close shuts:close shutting:close closure:close
closures:close
""".split())  # noqa: SIM905
# fmt: on


def stem(word: str) -> str:
    """A crude stemmer, the same on both sides: enough to match "trained" with "training"."""
    w = word.lower().strip("'’-.,")
    w = re.sub(r"['’]s?$", "", w)
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3 or w[0].isdigit():
        return w
    # British and American spellings alike: "kilometres" and "kilometers", "privatised"
    # and "privatized"
    w = re.sub(r"(met|lit)re(s?)$", r"\1er\2", w)  # not "centre", which would be "cent"
    w = re.sub(r"(?<=[a-z]{3})iz(e|es|ed|ing|ation|ations)$", r"is\1", w)
    if re.search(r"[a-z]{5}[ae]ncy$", w):  # "insolvency" with "insolvent", not "currency"
        w = w[:-2] + "t"
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + repl
            break
    if w.endswith("er") and len(w) >= 6:  # the one who does it: "founder" with "founded"
        w = w[:-2]
    return w[:-1] if w.endswith("e") and len(w) > 4 else w


# a phrase read as the word it means: "set up" is "found", "in return for" is "in
# exchange for"
_PHRASES = re.compile(r"\bset(?:s|ting)? up\b", re.I)
_IN_RETURN = re.compile(r"\bin return for\b", re.I)


def content_stems(text: str) -> set[str]:
    """The stemmed words of ``text`` that are not stop words ([n] markers ignored)."""
    text = _PHRASES.sub("found", _MARKERS.sub(" ", text))
    text = _IN_RETURN.sub("in exchange for", text)
    return {stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS}


def subject_words(question: str) -> set[str]:
    """What the question is about: its content words, stemmed, figures excluded."""
    return {w for w in content_stems(question) if w and not w[0].isdigit()}


def whole_words(text: str) -> set[str]:
    """The words of ``text``, whole ("AI" is not in "said"), hyphenated words also in
    their parts ("llama-2" holds "llama"), a possessive "'s" dropped."""
    words = set(re.findall(r"[\w-]+", re.sub(r"['’]s\b", "", text)))
    return words | {part for w in words if "-" in w for part in w.split("-")}


def initials(text: str) -> set[str]:
    """The initials of every run of two to five words of three letters or more ("annual
    general meeting": "agm"), lower case."""
    words = re.findall(r"[A-Za-z]{3,}|[^A-Za-z\s]+|\b[A-Za-z]{1,2}\b", text)
    out = set()
    for k in range(2, 6):
        for i in range(len(words) - k + 1):
            run = words[i : i + k]
            if all(len(w) >= 3 and w.isalpha() for w in run):
                out.add("".join(w[0] for w in run).lower())
    return out


# words that say the same of a person and an organisation: who leads it, who owns it
_SAME_SAYING = tuple(
    frozenset(map(stem, group.split()))
    for group in (
        "head heads headed lead leads led run runs ran charge director boss",
        "own owns owned owner owners shareholder shareholders stake",
    )
)


def with_same_sayings(stems: set[str]) -> set[str]:
    """``stems`` with the words that say the same thing as one of them ("runs the service"
    says who is in charge of it)."""
    return stems.union(*(group for group in _SAME_SAYING if group & stems))


def saying_stems(text: str) -> set[str]:
    """:func:`content_stems` of ``text``, with the words that say the same as one of them."""
    return with_same_sayings(content_stems(text))


def last_at(words: set[str], text: str) -> int:
    """Where the last of ``words`` is written whole in ``text``, or -1."""
    return max(
        (m.start() for w in words for m in re.finditer(rf"\b{re.escape(w)}\b", text)), default=-1
    )


def first_at(words: set[str], text: str) -> int:
    """Where the first of ``words`` is written whole in ``text``, or past its end."""
    found = (m.start() for w in words for m in re.finditer(rf"\b{re.escape(w)}\b", text))
    return min(found, default=len(text) + 1)
