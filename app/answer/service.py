"""The answer path: the core every client (API, CLI, evaluator) asks questions through.

A question walks through the stages wired in :mod:`app.answer.builder`, each in its own
module: retrieval (retriever + post-processors), prompt, generation, answer checks,
citations. Nothing here knows about HTTP. ``ask_stream`` is the one code path for
answers; ``ask`` collects it. Document upload and delete are
:class:`app.services.documents.DocumentService`; the index lifecycle is
:class:`app.services.live_index.LiveIndex`.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.answer import arithmetic
from app.answer.builder import answer_checks
from app.answer.checks import AnswerCheck, AnswerContext, run_checks
from app.answer.citations import parse_citations
from app.answer.citing import (
    citation_for,
    cite,
    earlier_texts,
    lead_sentences,
    lost_headers,
    short_answer,
)
from app.answer.examples import prompt_examples
from app.answer.gate import GenerationGate, Reservation
from app.answer.generation import Reconsidering, generate
from app.answer.prompt import REFUSAL, BuiltPrompt, SourcePassage, render_prompt
from app.answer.question import Question, StreamEvent, labelled
from app.answer.types import Answer, Citation, Timings, TokenProbability
from app.embedding import Embedder, get_embedder
from app.errors import BadInput, ModelUnavailable
from app.ingest.pipeline import IngestReport
from app.llm.base import LLM, RenderedPrompt, backend_health
from app.llm.token_scores import TokenScore
from app.retrieval.base import Hit, RetrievalPipeline
from app.retrieval.scope import Scope
from app.services.live_index import LiveIndex
from app.settings import Settings
from app.vectorstore.snapshot import Snapshot

__all__ = ["LLM", "WEAK_RETRIEVAL_ANSWER", "WITHHELD_ANSWER", "RagService", "StreamEvent"]

# Every withheld answer says this one sentence; ``Answer.reason`` and ``Answer.detail``
# say why. (Kept under its old name too: clients and tests import it.)
WITHHELD_ANSWER = "The indexed articles do not state the answer to this question."
WEAK_RETRIEVAL_ANSWER = WITHHELD_ANSWER


class RagService:
    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        index: LiveIndex | None = None,
        checks: Sequence[AnswerCheck] | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(
            settings.embed_model,
            settings.embed_batch_size,
            settings.embed_backend,
            settings.embed_cache_dir,
        )
        self.index = index or LiveIndex(settings, self.embedder)
        self.llm = llm
        self.checks = list(answer_checks(settings) if checks is None else checks)
        self.gate = GenerationGate(settings.max_queue)
        self.examples = prompt_examples(settings.prompt_examples)

    # --- the live index (see LiveIndex) --------------------------------------------------
    def open_index(self, build_from: Path | None = None) -> Snapshot:
        return self.index.open(build_from)

    def ingest(
        self, paths: Sequence[Path], rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        return self.index.ingest(paths, rebuild=rebuild, progress=progress)

    @property
    def retriever(self) -> RetrievalPipeline:
        return self.index.retrieval

    @property
    def snapshot(self) -> Snapshot:
        return self.index.snapshot

    @property
    def index_loaded(self) -> bool:
        return self.index.loaded

    # --- retrieval --------------------------------------------------------------------
    def validate_question(self, question: str, top_k: int | None) -> tuple[str, int]:
        q = unicodedata.normalize("NFC", question or "")
        q = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", q).strip()
        if not q:
            raise BadInput("the question is empty; ask something about the articles")
        if len(q) > self.settings.max_question_chars:
            raise BadInput(
                f"the question is {len(q)} characters; the limit is "
                f"{self.settings.max_question_chars} (RAGQA_MAX_QUESTION_CHARS)"
            )
        k = self.settings.top_k if top_k is None else top_k
        if not 1 <= k <= 50:
            raise BadInput(f"top_k must be between 1 and 50, got {k}")
        return q, k

    @staticmethod
    def retrieval_query(question: str, history: Sequence[dict[str, str]]) -> str:
        """A follow-up is searched together with the previous question it depends on."""
        previous = [t.get("content", "") for t in history if t.get("role") == "user"]
        if previous:
            return f"{previous[-1][:300]} {question}"
        return question

    def retrieve(self, question: str, top_k: int) -> tuple[list[Hit], float]:
        t0 = time.perf_counter()
        hits = self.index.retrieval.search(question, top_k)
        return hits, (time.perf_counter() - t0) * 1000

    def search(
        self, question: str, top_k: int | None = None, scope: Scope | None = None
    ) -> tuple[list[Citation], float]:
        """Retrieval only: the passages a question would get, best first, and the time."""
        question, k = self.validate_question(question, top_k)
        pipeline = self.index.retrieval
        t0 = time.perf_counter()
        hits = pipeline.search(question, k, scope)
        ms = (time.perf_counter() - t0) * 1000
        docs = pipeline.snapshot.documents
        return [citation_for(i + 1, h, docs, cited=False) for i, h in enumerate(hits)], ms

    # --- answering --------------------------------------------------------------------
    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[dict[str, str]] = (),
        cancel: threading.Event | None = None,
        *,
        max_tokens: int | None = None,
        reservation: Reservation | None = None,
        scope: Scope | None = None,
    ) -> Answer:
        events = self.ask_stream(
            question,
            top_k,
            history,
            cancel,
            max_tokens=max_tokens,
            reservation=reservation,
            scope=scope,
        )
        for event in events:
            if event.kind == "answer":
                answer: Answer = event.data
                return answer
        raise RuntimeError("ask_stream ended without an answer")

    def _start(
        self,
        question: str,
        top_k: int | None,
        history: Sequence[dict[str, str]],
        scope: Scope | None = None,
    ) -> Question:
        question, k = self.validate_question(question, top_k)
        history = list(history or [])
        query = self.retrieval_query(question, history)
        pipeline = self.index.retrieval
        t0 = time.perf_counter()
        retrieval = pipeline.run(query, k, scope)
        ms = (time.perf_counter() - t0) * 1000
        timings = Timings(retrieval_ms=round(ms, 2), ttft_ms=None)
        model = self.llm.name if self.llm else "none"
        return Question(question, query, history, retrieval, pipeline, timings, model)

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[dict[str, str]] = (),
        cancel: threading.Event | None = None,
        *,
        max_tokens: int | None = None,
        reservation: Reservation | None = None,
        scope: Scope | None = None,
    ) -> Iterator[StreamEvent]:
        """``max_tokens`` caps this answer below RAGQA_MAX_TOKENS (OpenAI clients send it).
        ``reservation``: the place in the model's queue taken when the request was accepted
        (``gate.reserve()``); the caller releases it if the answer ends before the model.
        ``scope``: answer only from these documents (:class:`app.retrieval.scope.Scope`)."""
        t_start = time.perf_counter()
        q = self._start(question, top_k, history, scope)
        if q.retrieval.withheld is not None:
            yield from self._withheld_by_retrieval(q, q.retrieval.withheld, t_start)
            return
        llm = self._loaded_llm()
        snap = q.pipeline.snapshot
        built, rendered = self._prompt(llm, snap, q.question, q.retrieval.hits, q.history)
        used = q.retrieval.hits[: len(built.sources)]
        sources = [  # a trimmed passage is cited with its own (shorter) span
            citation_for(
                s.number, h, snap.documents, s.text if s.text != h.chunk.text else None, cited=False
            )
            for s, h in zip(built.sources, used, strict=True)
        ]
        yield StreamEvent("sources", sources)
        q.timings.prompt_tokens = len(rendered.tokens)
        cap = built.max_answer_tokens
        pieces: list[str] = []
        reconsider = Reconsidering(REFUSAL, self.settings.refusal_doubt)
        scores: list[TokenScore] = []
        for piece in generate(
            llm,
            rendered,
            self.gate,
            q.timings,
            max_tokens=cap if max_tokens is None else max(1, min(max_tokens, cap)),
            temperature=self.settings.temperature,
            timeout=self.settings.request_timeout,
            cancel=cancel,
            reservation=reservation,
            reconsider=reconsider,
            scores=scores,
        ):
            pieces.append(piece)
            yield StreamEvent("token", piece)
        raw = "".join(pieces).strip()
        q.timings.completion_tokens = llm.count_tokens(raw) if raw else 0
        answer = self._finish(q, raw, sources, used, scores)
        answer.refusal_probability = reconsider.refusal_probability
        answer.timings.total_ms = round((time.perf_counter() - t_start) * 1000, 2)
        yield StreamEvent("answer", answer)

    def _withheld_by_retrieval(
        self, q: Question, reason: str, t_start: float
    ) -> Iterator[StreamEvent]:
        """The events of an answer retrieval withheld (an empty index, weak retrieval):
        the passages found, then the fixed answer; the model is not called."""
        docs = q.pipeline.snapshot.documents
        hits = q.retrieval.hits
        sources = [citation_for(i + 1, h, docs, cited=False) for i, h in enumerate(hits)]
        q.timings.total_ms = round((time.perf_counter() - t_start) * 1000, 2)
        yield StreamEvent("sources", sources)
        detail = (
            "the index is empty"
            if reason == "empty_index"
            else "no passage is close enough to the question (RAGQA_MIN_SCORE)"
        )
        yield StreamEvent("answer", q.answer(WITHHELD_ANSWER, reason, sources, detail=detail))

    def _loaded_llm(self) -> LLM:
        if self.llm is None:
            raise ModelUnavailable(
                "no language model is loaded (GET /health says why); fix RAGQA_MODEL_PATH "
                "or install the bundled model, then restart the service"
            )
        return self.llm

    def _prompt(
        self,
        llm: LLM,
        snapshot: Snapshot,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[dict[str, str]] = (),
    ) -> tuple[BuiltPrompt, RenderedPrompt]:
        docs = snapshot.documents
        passages = []
        # rows cut out of a table are shown under its header (citations keep the span)
        for i, (h, tables) in enumerate(zip(hits, lost_headers(docs, hits), strict=True)):
            doc, c = docs.get(h.chunk.doc_id), h.chunk
            passages.append(SourcePassage(i + 1, *labelled(doc, c.heading), c.text, tables))
        return render_prompt(
            llm,
            question,
            passages,
            max_answer_tokens=self.settings.max_tokens,
            history=history,
            examples=self.examples,
        )

    def build_prompt(
        self, llm: LLM, question: str, hits: Sequence[Hit], history: Sequence[dict[str, str]] = ()
    ) -> tuple[BuiltPrompt, RenderedPrompt]:
        """The exact prompt the model gets for ``hits`` (benchmarks time llama.cpp on it)."""
        return self._prompt(llm, self.snapshot, question, hits, history)

    def check_text(self, question: str, raw: str, scores: Sequence[TokenScore] = ()) -> Answer:
        """The answer checks and citations over a text the model already gave for
        ``question``: what :meth:`ask` returns when the model says ``raw`` (retrieval is
        deterministic, so the passages are the ones the model saw, unless the prompt
        budget trimmed them). Used to replay new checks over a finished evaluation run
        without the model."""
        q = self._start(question, None, [])
        docs = q.pipeline.snapshot.documents
        hits = q.retrieval.hits
        sources = [citation_for(i + 1, h, docs, cited=False) for i, h in enumerate(hits)]
        return self._finish(q, raw, sources, hits, scores)

    def _finish(
        self,
        q: Question,
        raw: str,
        sources: list[Citation],
        hits: list[Hit],
        scores: Sequence[TokenScore] = (),
    ) -> Answer:
        """Answer checks, then citations; ``scores``: the model's tokens (see Unsure)."""
        parsed = parse_citations(short_answer(raw), len(sources))
        sums = arithmetic.plan(q.question, parsed.text)  # a sum asked for: ragqa adds it up
        parsed = replace(parsed, text=sums.checked) if sums else parsed
        docs = q.pipeline.snapshot.documents
        tables, earlier = lost_headers(docs, hits), earlier_texts(docs, hits)
        leads = lead_sentences(earlier)
        ctx = AnswerContext(q.question, sources, raw, parsed, tables, leads, scores, earlier)
        withheld = run_checks(self.checks, ctx)
        q.certainty = ctx.notes.get("certainty")
        q.tokens = [TokenProbability(text=t.text, probability=t.probability) for t in scores]
        if withheld is not None:
            return q.answer(
                WITHHELD_ANSWER, withheld.reason, sources, detail=withheld.detail, model_text=raw
            )
        embeddings = q.pipeline.snapshot.embeddings

        def similarity(text: str) -> list[float]:
            vec = self.embedder.embed_query(text)
            return [float(embeddings[h.chunk.row] @ vec) for h in hits]

        text, citations, sources = cite(
            q.question, parsed, sources, similarity, support=ctx.notes.get("support")
        )
        text = sums.shown(text) if sums else text
        return q.answer(text, "answered", sources, citations=citations, model_text=raw)

    # --- status -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        current = self.index.current
        snap = current.snapshot if current else None
        server = backend_health(self.llm) if self.llm is not None else None
        model_ok = self.llm is not None and (server is None or bool(server.get("reachable")))
        return {
            "status": "ok" if snap is not None and model_ok else "degraded",
            "index_loaded": snap is not None,
            "index_version": snap.version if snap else None,
            "index_type": snap.manifest.get("index_type") if snap else None,
            "documents": len(snap.documents) if snap else 0,
            "chunks": snap.n_chunks if snap else 0,
            "embedder": self.embedder.name,
            "model_loaded": self.llm is not None,
            "model": self.llm.name if self.llm else None,
            "model_server": server,
            "queue_waiting": self.gate.waiting,
            "generating": self.gate.active,
        }
