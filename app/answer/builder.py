"""The service builder: every stage of the answer path is wired here, and only here.

- retrieval: :func:`retrieval_pipeline` (a retriever, then post-processors in order);
- answer checks: :func:`answer_checks` (in order; the first that objects withholds);
- the prompt (:mod:`app.answer.prompt`), generation (:mod:`app.answer.generation`, over
  an :class:`app.llm.base.LLM` from :func:`app.llm.load_llm`) and citations
  (:mod:`app.answer.citing`) are single steps called by :class:`app.answer.service.RagService`.

Adding a reranker or a check is one new class plus one line in a list below.
"""

from __future__ import annotations

from app.answer.checks import (
    AnswerCheck,
    ClaimStated,
    FiguresInSources,
    ModelRefused,
    NamesInSources,
    Unsure,
    YearStated,
)
from app.embedding import Embedder
from app.retrieval.base import PostProcessor, RetrievalPipeline
from app.retrieval.hybrid import HybridRetriever
from app.retrieval.postprocess import (
    DropNearDuplicates,
    SentenceWindow,
    TopK,
    WeakRetrievalGate,
)
from app.retrieval.sentence_budget import SentenceBudget
from app.settings import Settings
from app.vectorstore.snapshot import Snapshot


def retrieval_pipeline(
    settings: Settings, snapshot: Snapshot, embedder: Embedder
) -> RetrievalPipeline:
    """Built once per index snapshot (the BM25 index and the embeddings are its own)."""
    return RetrievalPipeline(
        snapshot,
        HybridRetriever(snapshot, embedder, hybrid=settings.hybrid, rrf_k=settings.rrf_k),
        [
            DropNearDuplicates(snapshot.embeddings),
            TopK(),
            *_narrowing(settings, embedder),
            WeakRetrievalGate(settings.min_score),
        ],
    )


def _narrowing(settings: Settings, embedder: Embedder) -> list[PostProcessor]:
    """What of each retrieved chunk the model reads: a sentence budget, a window, or all."""
    if settings.passage_budget > 0:
        return [SentenceBudget(embedder, settings.passage_budget)]
    if settings.passage_sentences >= 2:
        return [SentenceWindow(embedder, before=1, after=settings.passage_sentences - 2)]
    return []


def answer_checks(settings: Settings) -> list[AnswerCheck]:
    checks: list[AnswerCheck] = [ModelRefused(), FiguresInSources(), NamesInSources()]
    if settings.min_certainty > 0:
        checks.append(Unsure(settings.min_certainty))
    if settings.verify_claims:
        checks += [ClaimStated(settings.claim_min_subject, settings.sure_certainty), YearStated()]
    return checks
