"""Is the answer stated by a sentence of the sources? Find that sentence, or say there is none.

Small models build wrong answers out of real words: a figure the sources give for one
thing reported for another, a percentage turned into a count, a person the sources
mention put in a role they never give, an article's date line given as the date of the
events. Every figure or name of such an answer occurs *somewhere* in the sources, so
checks that look for words anywhere pass them. This check looks for one sentence that
states the claim **together with the question's subject**:

- the answer's *claim units* are the figures and names it adds to the question (a figure
  keeps its unit: ``42%`` is not ``42 batteries``, ``$3 million`` is not ``3 million
  visitors``); an answer with neither claims the content words it adds
  (:mod:`app.answer.claims`);
- a sentence *supports* a unit when it contains the unit, and is *about the question*
  when it (or its document's label) names one of the names the question asks about, all
  the words of it ("Caddisford Central Library", not "Library" alone), and enough of the
  question's subject words occur in it, in its section heading, or in
  the sentence before it when it opens with a pronoun ("It opened in 2019.") or names
  nothing at all ("Turning the hall into a library cost £2.4 million."). A sentence that
  calls an asked name by its last word ("The academy was designed by …") names it when
  one of the two sentences before it gives the name in full; an acronym the question
  uses ("AGM") is named by the words it stands for ("annual general meeting"). When a
  name acts in the question ("How much did the University of Caddisford invest …"), that
  one must be named: the sum another investor put in does not answer it. A post the
  question asks about ("the head teacher of …") must be written in the sentence, its
  context or label: a name the sources give as a trust's chief executive is no school's
  head teacher. Words naming a price ("price", "cost", "paid") are not subject words when
  the answer's figure is money: its unit checks them;
- the claim is *stated* when every unit is supported by a sentence that is about the
  question, using at most two sentences (a two-part question may need two);
- a question that names its subject by a description ("the company whose model …", "the
  technique that …") asks in two hops: the sentence about the question names the thing
  described (the *bridge*, say "Google"), and the answer may rest on a sentence about the
  bridge ("Google's smallest PaLM 2 model is Gecko"). Such a sentence counts when it names
  a bridge found in one of the sentences most about the question; both are cited.

The supporting sentences are returned with their spans, so citations can point at the
sentence that states the answer, not only at the chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.answer.claims import (
    FigureUse,
    claim_units,
    key_units,
    name_phrases,
    names_in,
    question_parts,
    wrong_kind,
)
from app.answer.measure import compares, count_of_other, covered_units, uncompared
from app.answer.mismatch import contradiction, post_place
from app.answer.naming import (
    acting,
    agent_of,
    heads_of,
    named,
    only_acted_on,
    other_of_series,
    read_words,
    short_forms,
)
from app.answer.occasion import date_units, other_event
from app.answer.posts import posts_asked, role_owner
from app.answer.reading import (
    Passage,
    Sentence,
    clause_sentences,
    context_of,
    paragraph_of,
)
from app.text.words import content_stems as _stems
from app.text.words import saying_stems, stem, subject_words, whole_words

# a thing named by a description: "the company whose…", "the model that…", "the lab where…"
_DESCRIBES = re.compile(
    r"\bthe (?:[\w'’-]+ ){1,3}?(?:that|whose|which|who|where"
    r"|\w+ed by|\w+ing the)\b",
    re.I,
)
_ASKS_WHEN = re.compile(r"\b(?:when|what (?:date|day|year|month)|which (?:date|day|year))\b", re.I)
_DATE_WORDS = frozenset(map(stem, "date day year month time exact".split()))  # noqa: SIM905
# verbs that say when any event starts or ends, not which event it is; light verbs ("come
# out", "take place", "go bust") carry no event at all ("take over", "make" do)
_ASPECT = frozenset(map(stem, "begin start end finish stop".split()))  # noqa: SIM905
_LIGHT = frozenset(map(stem, "come go become happen place".split()))  # noqa: SIM905
BRIDGE_FROM = 3  # bridges are taken from this many sentences most about the question
# question words that name a price: a money figure's unit checks them (the same for a
# share or percentage was tried: it let a held-out trap through, docs/EVALUATION.md)
_PRICE_WORDS = frozenset(map(stem, "price cost paid pay spend spent worth value".split()))  # noqa: SIM905


@dataclass
class ClaimCheck:
    stated: bool
    support: list[Sentence] = field(default_factory=list)  # best first
    missing: list[str] = field(default_factory=list)  # claim units no sentence states
    detail: str = ""


def _candidates(
    passages: Sequence[Passage],
    question: str,
    asked_names: list[frozenset[str]],
    figs: list[FigureUse],
    names: set[str],
    words: set[str],
    lenient: bool = False,
) -> list[_Candidate]:
    """Every sentence of the passages, with how far it is about the question and which
    of the answer's units (or what share of its words) it states."""
    by_part = _subject_parts(question, figs)
    subjects = [w for w in by_part if w]
    candidates: list[_Candidate] = []
    heads = heads_of(question, asked_names)
    shorts = short_forms(question, asked_names, _joined(passages)) if lenient else []
    agent, doer = agent_of(question), acting(question)
    must = _must_name(question, asked_names)
    acronyms = {w.lower() for w in re.findall(r"\b[A-Z]{2,5}\b", question)}
    part_posts = [posts_asked(p) for p in question_parts(question)]
    plain = not compares(question)
    for passage in passages:
        sents = clause_sentences(passage.number, passage.text)
        label = f"{passage.title} {passage.heading}"
        # subject words the title gives are true of every sentence, so they prove nothing
        # about this one; a section heading ("Context length") counts for those under it
        title_stems = _stems(passage.title)
        heading_stems = _stems(passage.heading)
        own = [subject - title_stems for subject in subjects]
        own_parts = [subject - title_stems for subject in by_part]
        label_words = whole_words(label.lower())
        for i, s in enumerate(sents):
            if s.text.startswith("#"):  # a heading labels the sentences under it: it states nothing
                continue
            context = context_of(sents, i, passage.before, passage.text, lenient)
            window = saying_stems(uncompared(context) if plain else context) | heading_stems
            share = max((len(o & window) / len(o) if o else 1.0 for o in own), default=1.0)
            read_with = f"{label} {context}".lower()
            # lenient: an essay's paragraph names its subject once; the sentence may not
            naming = f"{context} {paragraph_of(passage, s)}" if lenient else context
            read = read_words(label_words, naming, acronyms, shorts, heads if lenient else [])
            found = named(read, s.text, passage.up_to(s), heads, agent)
            found = found and all(m <= read for m in must) and not only_acted_on(doer, context)
            found = found and not other_of_series(question, context, s.text)
            # a post a part asks about ("the head teacher of …") must be the one the sentence
            # gives: a name the sources give in another post does not answer that part
            fits = [all(any(w in read_with for w in ways) for ways in p) for p in part_posts]
            parts = tuple(
                (len(o & window) / len(o) if o else 1.0) if found and fit else 0.0
                for o, fit in zip(own_parts, fits, strict=True)
            )
            about = max(
                (v for v, b in zip(parts, by_part, strict=True) if b),
                default=float(found and all(fits)),
            )
            around = " ".join(x.text for x in sents[max(0, i - 1) : i + 2]) if not plain else ""
            covered = covered_units(passage, s, figs, names, question, context, around)
            word_share = len(words & _stems(s.text)) / len(words) if words else 0.0
            candidates.append((s, about, covered, word_share, read_with, share, parts, window))
    return candidates


def _subject_parts(question: str, figs: list[FigureUse]) -> list[set[str]]:
    """The subject words of each part of the question. Words naming the kind of figure
    asked ("price") are checked by its unit, not by the wording; a part that only asks
    when ("…, and in what year?", "…, and in which year does it end?") is about what the
    rest asks about."""
    kinds = _PRICE_WORDS if any(u.currency for u in figs) else frozenset()
    return [
        set() if w <= _DATE_WORDS | _ASPECT else w - kinds
        for w in map(subject_words, question_parts(question))
    ]


def _must_name(question: str, asked_names: list[frozenset[str]]) -> list[frozenset[str]]:
    """Names a sentence must be read with to be about the question: the one of a series
    the question names ("Series B", "Phase 2"; a sentence about another of the
    series is not about it), the organisation a post is asked at, and the person whose post
    it is (by surname: "What is Dermot Achterberg's job?")."""
    must = [n for n in asked_names if any(len(w) == 1 or w.isdigit() for w in n)]
    place = post_place(question)
    owner = sorted(role_owner(question), key=question.lower().find)
    return must + [m for m in (place, frozenset(owner[-1:])) if m]


def _describes(question: str) -> bool:
    """The question names its subject by a description ("the company that …"), not by a
    name ("the Series B that Larkworks raised" is named: it needs no bridge)."""
    return any(not re.search(r"\b[A-Z]", m.group(0)[4:]) for m in _DESCRIBES.finditer(question))


def _joined(passages: Sequence[Passage]) -> str:
    return "\n".join(p.text for p in passages)


def check_claim(
    answer: str,
    question: str,
    passages: Sequence[Passage],
    *,
    min_subject: float = 0.34,
    min_words: float = 0.6,
    lenient: bool = False,
) -> ClaimCheck:
    """Find the sentence(s) of ``passages`` that state the answer.

    ``min_subject`` is the share of the question's subject words (less those its
    document's title gives) that a supporting sentence must contain, counting the sentence
    before it when it opens with a pronoun and its section heading; ``min_words``, for
    answers without figures or names, the share of the answer's added words the sentence
    must contain. ``lenient``: a firm may be named by its short name (:func:`app.answer.naming.short_forms`),
    for an answer the model was sure of (:class:`app.answer.checks.ClaimStated`).
    """
    known = _joined(passages)
    figs, names, words = claim_units(answer, question, known)
    # the names the question asks about ("GPT-4", "Sequoia"): a sentence about something
    # else that happens to share the question's common words does not answer it
    # (a name of several words is there only when all its words are)
    asked_names = name_phrases(question)  # its opening word (What, How, At…) never counts
    units = key_units(answer, question, figs, names, " ".join(p.title for p in passages))
    unfit = (
        wrong_kind(answer, question, figs)
        or contradiction(answer, question, figs, names)
        or count_of_other(question, figs)
    )
    if unfit:
        return ClaimCheck(False, detail=unfit)
    if not units and not words:
        return ClaimCheck(False, detail="the answer adds nothing to the question")
    candidates = _candidates(passages, question, asked_names, figs, names, words, lenient)
    if not candidates:
        return ClaimCheck(False, [], units or sorted(words), "no source text to check against")
    if not units:
        return _words_stated(candidates, question, words, min_words, min_subject)
    # up to two sentences that are about the question and together state every unit
    relevant = [c for c in candidates if c[1] >= min_subject and c[2]]
    support, remaining = _cover(relevant, set(units), answer, question)
    if not remaining:
        remaining = _date_unstated(question, units, relevant, min_subject, answer)
    if remaining and _describes(question):
        bridged, via = _bridged(candidates, min_subject, question, known)
        more, remaining = _cover(bridged, remaining)
        if more and not remaining:
            support += more + [v for v in via if v not in support]
    if remaining:
        return ClaimCheck(
            False,
            support,
            sorted(remaining),
            "no sentence about the question states " + ", ".join(sorted(remaining)),
        )
    return ClaimCheck(True, support)


def _words_stated(
    candidates: list[_Candidate],
    question: str,
    words: set[str],
    min_words: float,
    min_subject: float,
) -> ClaimCheck:
    """An answer with neither figures nor names: one sentence about the question must hold
    ``min_words`` of its words. A post asked for a named person ("What is Priya
    Okonjo-Hale's job?") must come from a sentence that names that person."""
    who = role_owner(question)
    if who:
        candidates = [c for c in candidates if who <= whole_words(c[4])]
        if not candidates:
            return ClaimCheck(False, [], sorted(words), "no sentence gives the post to them")
    best = max(candidates, key=lambda c: (c[3] >= min_words and c[1] >= min_subject, c[3] + c[1]))
    support, held = [best[0]], words & _stems(best[0].text)
    if len(question_parts(question)) > 1:  # a two-part answer may rest on a sentence each
        about = [c for c in candidates if c[1] >= min_subject and c is not best]
        second = max(about, key=lambda c: len((words & _stems(c[0].text)) - held), default=None)
        if best[1] >= min_subject and second and (words & _stems(second[0].text)) - held:
            support.append(second[0])
            held |= words & _stems(second[0].text)
    ok = len(held) >= min_words * len(words) and best[1] >= min_subject
    return ClaimCheck(
        ok,
        support if ok else [],
        [] if ok else sorted(words),
        "" if ok else "no sentence about the question holds the answer's words",
    )


# sentence, about, units covered, share of the answer's words, what it is read with (its
# document's title, its heading, the sentence before when it refers back), its share of
# the question's subject words whatever names it holds, how far it is about each part of
# the question, and the stemmed words of it, the sentence before when it refers back, and
# its heading
_Candidate = tuple[Sentence, float, set[str], float, str, float, tuple[float, ...], set[str]]


def _date_unstated(
    question: str,
    units: Sequence[str],
    relevant: list[_Candidate],
    min_subject: float,
    answer: str = "",
) -> set[str]:
    """The date that answers the part asking when must rest on a sentence that says the
    event asked about: one of that part's words other than names and date words ("sign",
    "contract" in "On what date did X sign her contract?"; the date X took up the post
    answers another question). In a question of two parts ("…, and on what date …?") that
    sentence must also be about the part asking when, not only about the other part.
    Returns the date units no such sentence states (all of them, or none)."""
    parts = question_parts(question)
    dated = [i for i, p in enumerate(parts) if _ASKS_WHEN.search(p)]
    dates = date_units(units, answer)
    if not dated or not dates:
        return set()
    named = {stem(p) for n in name_phrases(question) for w in n for p in [w, *w.split("-")]}
    for i in dated:
        events = subject_words(parts[i]) - named - _DATE_WORDS - _LIGHT
        if len(parts) > 1 and events <= _ASPECT:
            continue  # "…, and in which year does it end?": when the rest's thing ends
        events = events - _ASPECT or events  # "began" dates any event: the agreement is one
        told = [c for c in relevant if not other_event(parts[i], c[0].text)]  # another's date
        says = [c[2] for c in told if events & _stems(c[0].text)]  # one date: all of it
        if events and not any(dates <= c if len(parts) == 1 else dates & c for c in says):
            return dates
    if len(parts) < 2:
        return set()
    if len(dated) > 1:  # "When did X …, and when did Y …?": a dated sentence about each part
        about_each = all(
            any(dates & c[2] for c in relevant if c[6][i] >= min_subject) for i in dated
        )
        return set() if about_each else dates
    if any(dates <= c[2] for c in relevant if c[6][dated[0]] >= min_subject):
        return set()
    return dates


def _cover(
    relevant: list[_Candidate], remaining: set[str], answer: str = "", question: str = ""
) -> tuple[list[Sentence], set[str]]:
    """At most two sentences, most covering first, that together state ``remaining``;
    returned in the order the answer gives their units (the fact it opens with first,
    not a year it adds about where it read it), so the first is the one quoted. A
    sentence that gives a year the question names comes before one that does not ("…,
    and what will it be from April 2026?")."""
    years = set(re.findall(r"\b(?:19|20)\d\d\b", question))
    ranked = sorted(
        relevant,
        key=lambda c: (any(y in c[0].text for y in years), len(c[2]), c[1]),
        reverse=True,
    )
    wanted = set(remaining)
    picked: list[tuple[Sentence, set[str]]] = []  # each with the units it adds
    for c in ranked:
        if c[2] & remaining:
            picked.append((c[0], c[2] & remaining))
            remaining = remaining - c[2]
        if not remaining or len(picked) == 2:
            break
    if remaining:  # the two that cover most first may not be a pair that covers all
        pairs = (
            [(a[0], a[2] & wanted), (b[0], (b[2] & wanted) - a[2])]
            for i, a in enumerate(ranked)
            for b in ranked[i + 1 :]
            if wanted <= a[2] | b[2]
        )
        pair = next(pairs, None)
        picked, remaining = (pair, set()) if pair else (picked, remaining)
    lowered = answer.lower()
    chosen = []
    for sentence, adds in picked:
        at = [lowered.find(u.lower()) for u in adds]
        chosen.append((min((a for a in at if a >= 0), default=len(lowered)), sentence))
    return [s for _, s in sorted(chosen, key=lambda c: c[0])], remaining


def _bridged(
    candidates: list[_Candidate], min_subject: float, question: str, known: str
) -> tuple[list[_Candidate], list[Sentence]]:
    """The second hop: sentences that state some unit and name a bridge, a name the
    question does not use found in one of the :data:`BRIDGE_FROM` sentences most about the
    question; and those sentences (cited beside the answer's own)."""
    # the first hop is about the description, which need not hold the names the question
    # asks about ("the company that beat X to Y": X and Y name the description's subject)
    about = sorted((c for c in candidates if c[5] >= min_subject), key=lambda c: -c[5])
    asked = question.lower()
    named = [(c[0], {n for n in names_in(c[0].text, known) if n not in asked}) for c in about]
    bridges = set().union(*(names for _, names in named[:BRIDGE_FROM]))
    found, used = [], set()
    for c in candidates:
        if c[2] and c[1] < min_subject:
            hit = bridges & {re.sub(r"['’]s?$", "", w) for w in re.findall(r"[\w'’-]+", c[4])}
            if hit:
                found.append(c)
                used |= hit
    via = [s for s, names in named[:BRIDGE_FROM] if names & used]
    return found, via
