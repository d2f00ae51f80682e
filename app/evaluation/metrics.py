"""Metric definitions (documented in every report).

- **answer accuracy**: a SQuAD-normalised gold answer occurs in the normalised answer, and
  the answer is not a refusal; best over the gold answers. Also **exact match** and
  **token F1** (SQuAD definitions), best over gold answers.
- **answer accuracy before the checks**: the same score of the model's own text, before
  an answer check withheld it. The checks only withhold, so this is the ceiling of answer
  accuracy; the difference is the right answers the checks cost.
- **refusal accuracy**: share of unanswerable questions answered with ``answerable: false``;
  **false-refusal rate**: share of answerable questions answered with ``answerable: false``.
- **hit@k / recall@k**: a retrieved chunk *covers* an evidence passage if it contains it or
  its character span overlaps at least half of the passage's span. hit@k: some evidence
  is covered by the top k; recall@k: the share of evidence passages covered. **MRR**: mean
  of 1/rank of the first covering chunk (0 if none in the top 10).
- **answer accuracy** of a multi-part question (``parts`` in the question file) needs
  every part in the answer. A question that errored or timed out is wrong, never a
  correct refusal.
- **sentence citation precision**: share of citations whose quoted sentence (the one
  ragqa found stating the answer) lies, by at least half its span, in an evidence
  passage; a citation with no quoted sentence counts as imprecise.
- **citation precision**: share of cited passages that cover some evidence passage;
  **citation recall**: share of answered questions whose citations cover every evidence
  passage.
"""

from __future__ import annotations

import re
import statistics
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_PUNCT = set(string.punctuation)


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces; and a
    possessive "'s" dropped, so "OpenAI's API" contains the answer "OpenAI" (with the
    apostrophe dropped alone it would read "openais")."""
    text = _POSSESSIVE.sub("", text.lower())
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    p = normalize(prediction)
    return float(any(p == normalize(g) for g in golds))


def contains_answer(prediction: str, golds: Sequence[str]) -> float:
    p = f" {normalize(prediction)} "
    return float(any(normalize(g) and f" {normalize(g)} " in p for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    best = 0.0
    p_tokens = normalize(prediction).split()
    for g in golds:
        g_tokens = normalize(g).split()
        common = Counter(p_tokens) & Counter(g_tokens)
        same = sum(common.values())
        if not same:
            continue
        precision, recall = same / len(p_tokens), same / len(g_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def locate(evidence: str, doc_text: str) -> tuple[int, int] | None:
    """Where ``evidence`` is in the document: verbatim, or with any run of whitespace
    standing for any other (a PDF's line breaks are joined into sentences at load, so an
    evidence string written with the printed line break still matches)."""
    i = doc_text.find(evidence)
    if i >= 0:
        return (i, i + len(evidence))
    words = evidence.split()
    if not words:
        return None
    m = re.search(r"\s+".join(map(re.escape, words)), doc_text)
    return (m.start(), m.end()) if m else None


def contains(text: str, evidence: str) -> bool:
    """``evidence`` in ``text``, whitespace runs compared as one space (see :func:`locate`)."""
    return evidence in text or locate(evidence, text) is not None


def covers(
    chunk_text: str,
    chunk_span: tuple[int, int],
    evidence: str,
    evidence_span: tuple[int, int] | None,
) -> bool:
    if contains(chunk_text, evidence):
        return True
    if evidence_span is None:
        return False
    overlap = min(chunk_span[1], evidence_span[1]) - max(chunk_span[0], evidence_span[0])
    return overlap >= 0.5 * (evidence_span[1] - evidence_span[0])


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0.01 … 0.99), interpolated linearly between data points."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
