"""The question-answering service: the core every client (API, CLI, evaluator) uses.

It owns the live index snapshot, the retriever, the embedder and the LLM, and knows
nothing of HTTP. ``ask_stream`` is the one code path for answers; ``ask`` collects it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from app.answer.citations import is_refusal, parse_citations
from app.answer.gate import GenerationGate, Reservation
from app.answer.grounding import figures_supported, repair_citations, unsupported_names
from app.answer.prompt import REFUSAL, BuiltPrompt, SourcePassage, fit_prompt
from app.answer.types import Answer, Citation, DocumentInfo, Timings
from app.embedding import Embedder, get_embedder
from app.errors import (
    BadInput,
    DocumentNotFound,
    IndexMissing,
    ModelUnavailable,
    TooLarge,
    UnsupportedDocument,
)
from app.ingest.loaders import SUPPORTED_SUFFIXES, load_bytes
from app.ingest.pipeline import IngestReport, apply_documents, ingest_paths
from app.llm.local import RenderedPrompt
from app.retrieval.hybrid import Hit, Retriever
from app.settings import Settings
from app.vectorstore.store import IndexStore, Snapshot, storage_error

log = logging.getLogger(__name__)

WEAK_RETRIEVAL_ANSWER = (
    "I could not find anything about this in the indexed articles, so I cannot answer it."
)
UNSUPPORTED_ANSWER = (
    "The articles do not state this: the figures the model proposed appear in none of the "
    "retrieved passages, so ragqa does not report them."
)
UNSUPPORTED_NAMES = (
    "The articles do not state this: the model's answer names something that appears in "
    "none of the retrieved passages, so ragqa does not report it."
)
INFERRED_MIN_SUPPORT = 0.4
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "as",
        "at",
        "from",
        "that",
        "this",
        "it",
        "its",
        "which",
        "who",
        "what",
        "when",
        "where",
        "how",
        "according",
        "sources",
        "source",
        "about",
        "than",
        "into",
        "has",
        "have",
        "had",
        "not",
    ]
)


def _content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9.,%$-]*", text.lower())
    return {w.strip(".,") for w in words if w.strip(".,") not in _STOPWORDS}


class LLM(Protocol):
    """What the service needs from a generation backend."""

    name: str
    n_ctx: int

    def render(self, messages: Sequence[dict[str, str]]) -> RenderedPrompt: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self,
        prompt: RenderedPrompt,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]: ...


@dataclass
class StreamEvent:
    kind: Literal["sources", "token", "answer"]
    data: Any


def _safe_filename(name: str) -> str:
    """The last path component, letters, digits, ``_.- `` only, at most 120 UTF-8 bytes with
    its suffix kept: never a path, never hidden, never outside the uploads folder."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not (dot and stem and len(suffix) <= 16):
        stem, suffix = name, ""
    while len(stem.encode("utf-8")) > 100:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return (f"{stem}.{suffix}" if suffix else stem) or "document"


class RagService:
    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.embed_model, settings.embed_batch_size)
        self.store = IndexStore(settings.index_dir)
        self.llm = llm
        self.gate = GenerationGate(settings.max_queue)
        self._snapshot_lock = threading.Lock()
        # one upload/delete at a time: the duplicate check and the write are one step
        self._write_lock = threading.Lock()
        self._retriever: Retriever | None = None

    # --- index ----------------------------------------------------------------------
    def open_index(self, build_from: Path | None = None) -> Snapshot:
        """Load the index; if there is none and ``build_from`` is given, ingest it first."""
        if not self.store.exists() and build_from is not None:
            log.info("no index in %s: ingesting %s", self.store.root, build_from)
            self.ingest([build_from])
        else:
            self._set_snapshot(self.store.load(self.embedder.name, self.embedder.dim))
        return self.snapshot

    def _set_snapshot(self, snap: Snapshot) -> None:
        retriever = Retriever(snap, self.embedder, hybrid=self.settings.hybrid)
        with self._snapshot_lock:
            self._retriever = retriever

    @property
    def retriever(self) -> Retriever:
        r = self._retriever
        if r is None:
            raise IndexMissing(
                f"no index is loaded from {self.store.root} (GET /health says why). Build it: "
                f"ragqa ingest data/articles --index {self.store.root} --rebuild"
            )
        return r

    @property
    def snapshot(self) -> Snapshot:
        return self.retriever.snapshot

    @property
    def index_loaded(self) -> bool:
        return self._retriever is not None

    def ingest(
        self, paths: Sequence[Path], rebuild: bool = False, progress: bool = False
    ) -> IngestReport:
        report = ingest_paths(
            paths, self.store, self.embedder, self.settings, rebuild=rebuild, progress=progress
        )
        assert report.snapshot is not None
        self._set_snapshot(report.snapshot)
        return report

    # --- documents ------------------------------------------------------------------
    def _info(self, doc_id: str, duplicate: bool = False) -> DocumentInfo:
        d = self.snapshot.documents[doc_id]
        return DocumentInfo(
            doc_id=d.doc_id,
            title=d.title,
            source=d.source,
            content_hash=d.content_hash,
            n_chunks=d.n_chunks,
            n_chars=len(d.text),
            added_at=d.added_at,
            duplicate=duplicate,
        )

    def list_documents(self) -> list[DocumentInfo]:
        docs = sorted(self.snapshot.documents.values(), key=lambda d: (d.title.lower(), d.doc_id))
        return [self._info(d.doc_id) for d in docs]

    def get_document(self, doc_id: str) -> tuple[DocumentInfo, str]:
        if doc_id not in self.snapshot.documents:
            shown = doc_id if len(doc_id) <= 64 else doc_id[:64] + "…"
            raise DocumentNotFound(f"no document with id {shown!r}; GET /api/documents lists them")
        return self._info(doc_id), self.snapshot.documents[doc_id].text

    def add_document(self, filename: str, data: bytes) -> DocumentInfo:
        """Store an uploaded file and index it. The same content twice is stored once."""
        safe = _safe_filename(filename)
        suffix = Path(safe).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnsupportedDocument(
                f"{safe}: unsupported file type; upload one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
            )
        limit = int(self.settings.max_upload_mb * 1024 * 1024)
        if len(data) > limit:
            raise TooLarge(
                f"{safe} is {len(data)} bytes; the limit is {limit} bytes (RAGQA_MAX_UPLOAD_MB)"
            )
        digest = hashlib.sha256(data).hexdigest()
        uploads = self.settings.uploads_dir
        target = uploads / f"{digest[:12]}-{safe}"
        # validates the content before anything is written
        doc = load_bytes(
            data, Path(safe), source=str(target), max_pdf_pages=self.settings.max_pdf_pages
        )
        with self._write_lock:
            for d in self.snapshot.documents.values():
                if d.content_hash == doc.content_hash:
                    return self._info(d.doc_id, duplicate=True)
            tmp = uploads / f".{target.name}.part"
            try:
                uploads.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                tmp.replace(target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise storage_error(exc, f"could not store {safe} in {uploads}", len(data)) from exc
            try:
                snap = apply_documents(self.store, self.embedder, self.settings, add=[doc])
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            self._set_snapshot(snap)
            return self._info(doc.doc_id)

    def delete_document(self, doc_id: str) -> DocumentInfo:
        with self._write_lock:
            info, _ = self.get_document(doc_id)
            snap = apply_documents(self.store, self.embedder, self.settings, remove=[doc_id])
            self._set_snapshot(snap)
        src = Path(info.source)
        if self.settings.uploads_dir.resolve() in src.resolve().parents:
            src.unlink(missing_ok=True)
        return info

    # --- answering ----------------------------------------------------------------------
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
        hits = self.retriever.search(question, top_k)
        return hits, (time.perf_counter() - t0) * 1000

    def search(self, question: str, top_k: int | None = None) -> tuple[list[Citation], float]:
        """Retrieval only: the passages a question would get, best first, and the time."""
        question, k = self.validate_question(question, top_k)
        hits, ms = self.retrieve(question, k)
        return [self._citation(i + 1, h, cited=False) for i, h in enumerate(hits)], ms

    def _citation(self, number: int, hit: Hit, text: str | None = None, **kw: Any) -> Citation:
        c = hit.chunk
        doc = self.snapshot.documents.get(c.doc_id)
        passage = c.text if text is None else text
        end = c.start + len(passage) if text is not None else c.end
        return Citation(
            number=number,
            doc_id=c.doc_id,
            title=doc.title if doc else "",
            source=doc.source if doc else "",
            chunk_id=c.chunk_id,
            start=c.start,
            end=end,
            heading=c.heading,
            text=passage,
            score=round(hit.score, 4),
            **kw,
        )

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[dict[str, str]] = (),
        cancel: threading.Event | None = None,
        *,
        max_tokens: int | None = None,
        reservation: Reservation | None = None,
    ) -> Answer:
        events = self.ask_stream(
            question, top_k, history, cancel, max_tokens=max_tokens, reservation=reservation
        )
        for event in events:
            if event.kind == "answer":
                answer: Answer = event.data
                return answer
        raise RuntimeError("ask_stream ended without an answer")

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[dict[str, str]] = (),
        cancel: threading.Event | None = None,
        *,
        max_tokens: int | None = None,
        reservation: Reservation | None = None,
    ) -> Iterator[StreamEvent]:
        """``max_tokens`` caps this answer below RAGQA_MAX_TOKENS (OpenAI clients send it).
        ``reservation``: the place in the model's queue taken when the request was accepted
        (``gate.reserve()``); the caller releases it if the answer ends before the model."""
        t_start = time.perf_counter()
        question, k = self.validate_question(question, top_k)
        history = list(history or [])
        query = self.retrieval_query(question, history)
        hits, retrieval_ms = self.retrieve(query, k)
        model_name = self.llm.name if self.llm else "none"
        timings = Timings(retrieval_ms=round(retrieval_ms, 2), ttft_ms=None)

        best = max((h.score for h in hits), default=-1.0)
        if not hits or best < self.settings.min_score:
            sources = [self._citation(i + 1, h, cited=False) for i, h in enumerate(hits)]
            timings.total_ms = round((time.perf_counter() - t_start) * 1000, 2)
            yield StreamEvent("sources", sources)
            yield StreamEvent(
                "answer",
                Answer(
                    question=question,
                    answer=WEAK_RETRIEVAL_ANSWER,
                    answerable=False,
                    reason="empty_index" if not hits else "weak_retrieval",
                    citations=[],
                    sources=sources,
                    timings=timings,
                    model=model_name,
                    retrieval_query=query,
                ),
            )
            return

        llm = self.llm
        if llm is None:
            raise ModelUnavailable(
                "no language model is loaded (GET /health says why); fix RAGQA_MODEL_PATH "
                "or install the bundled model, then restart the service"
            )
        built, rendered = self.build_prompt(llm, question, hits, history)
        used_hits = hits[: len(built.sources)]
        sources = [
            self._citation(
                s.number, h, text=s.text if s.text != h.chunk.text else None, cited=False
            )
            for s, h in zip(built.sources, used_hits, strict=True)
        ]
        yield StreamEvent("sources", sources)
        timings.prompt_tokens = len(rendered.tokens)

        deadline = time.monotonic() + self.settings.request_timeout
        pieces: list[str] = []
        # one budget for waiting and generating; a client that went away leaves the queue
        with self.gate.slot(
            timeout=deadline - time.monotonic(), cancel=cancel, reservation=reservation
        ):
            t_gen = time.perf_counter()
            for piece in llm.stream(
                rendered,
                max_tokens=built.max_answer_tokens
                if max_tokens is None
                else max(1, min(max_tokens, built.max_answer_tokens)),
                temperature=self.settings.temperature,
                cancel=cancel,
                deadline=deadline,
            ):
                if not pieces:
                    timings.ttft_ms = round((time.perf_counter() - t_gen) * 1000, 2)
                pieces.append(piece)
                yield StreamEvent("token", piece)
            timings.generation_ms = round((time.perf_counter() - t_gen) * 1000, 2)
        raw = "".join(pieces).strip()
        timings.completion_tokens = llm.count_tokens(raw) if raw else 0
        answer = self._finish(question, raw, sources, used_hits, model_name, timings, query)
        answer.timings.total_ms = round((time.perf_counter() - t_start) * 1000, 2)
        yield StreamEvent("answer", answer)

    def build_prompt(
        self, llm: LLM, question: str, hits: Sequence[Hit], history: Sequence[dict[str, str]] = ()
    ) -> tuple[BuiltPrompt, RenderedPrompt]:
        """The exact prompt (messages and tokens) the model gets for ``hits``.

        Public so that benchmarks can time llama.cpp on the very same tokens. The final
        rendering done while fitting is reused, so the prompt is tokenised once more only if
        fitting did not end on it.
        """
        passages = [
            SourcePassage(
                i + 1,
                self.snapshot.documents[h.chunk.doc_id].title
                if h.chunk.doc_id in self.snapshot.documents
                else "",
                h.chunk.heading,
                h.chunk.text,
            )
            for i, h in enumerate(hits)
        ]
        last: list[tuple[list[dict[str, str]], RenderedPrompt]] = []

        def count_prompt(messages: list[dict[str, str]]) -> int:
            rendered = llm.render(messages)
            last[:] = [(messages, rendered)]
            return len(rendered.tokens)

        built = fit_prompt(
            question,
            passages,
            n_ctx=llm.n_ctx,
            max_answer_tokens=self.settings.max_tokens,
            count_prompt=count_prompt,
            count_text=llm.count_tokens,
            history=history,
        )
        if last and last[0][0] == built.messages:
            return built, last[0][1]
        return built, llm.render(built.messages)

    def _finish(
        self,
        question: str,
        raw: str,
        sources: list[Citation],
        hits: list[Hit],
        model_name: str,
        timings: Timings,
        query: str,
    ) -> Answer:
        parsed = parse_citations(raw, len(sources))
        refusal: tuple[str, Literal["model_refused", "unsupported"]] | None = None
        if not parsed.text or is_refusal(parsed.text):
            refusal = (parsed.text or REFUSAL, "model_refused")
        elif not figures_supported(parsed.text, question, passages := [s.text for s in sources]):
            refusal = (UNSUPPORTED_ANSWER, "unsupported")
            log.info("answer withheld, its figures are in no source: %r", parsed.text[:500])
        elif names := unsupported_names(
            parsed.text, question, [*passages, *(f"{s.title} {s.heading or ''}" for s in sources)]
        ):
            refusal = (UNSUPPORTED_NAMES, "unsupported")
            log.info("answer withheld, %s in no source: %r", ", ".join(names), parsed.text[:500])
        if refusal is not None:
            return Answer(
                question=question,
                answer=refusal[0],
                answerable=False,
                reason=refusal[1],
                citations=[],
                sources=sources,
                timings=timings,
                model=model_name,
                retrieval_query=query,
            )
        by_number = {s.number: s for s in sources}
        repaired = repair_citations(
            parsed.text, question, {n: s.text for n, s in by_number.items()}
        )
        if repaired != parsed.text:
            parsed = parse_citations(repaired, len(sources))
        citations = [by_number[n].model_copy(update={"cited": True}) for n in parsed.cited]
        if not citations and sources:
            citations = self._infer_citations(parsed.text, sources, hits)
        cited_numbers = {c.number for c in citations}
        sources = [s.model_copy(update={"cited": s.number in cited_numbers}) for s in sources]
        return Answer(
            question=question,
            answer=parsed.text,
            answerable=True,
            reason="answered",
            citations=citations,
            sources=sources,
            timings=timings,
            model=model_name,
            retrieval_query=query,
        )

    def _infer_citations(
        self, text: str, sources: list[Citation], hits: list[Hit]
    ) -> list[Citation]:
        """The model cited nothing: attach the sources that best support its answer.

        Support is lexical (the answer's words and figures found in the passage) with dense
        similarity as the tie-breaker, so "2 trillion tokens" points at the passage that
        states the figure, not merely one on the same topic.
        """
        words = _content_words(text)
        if not words:
            return []
        vec = self.embedder.embed_query(text)
        scored = []
        for i, (src, hit) in enumerate(zip(sources, hits, strict=True)):
            passage = _content_words(src.text)
            weight = sum(2.0 if w[0].isdigit() else 1.0 for w in words)
            found = sum(2.0 if w[0].isdigit() else 1.0 for w in words if w in passage)
            cos = float(self.snapshot.embeddings[hit.chunk.row] @ vec)
            scored.append((found / weight, cos, i))
        scored.sort(reverse=True)
        best = scored[0][0]
        if best < INFERRED_MIN_SUPPORT:
            return []
        picked = [i for sup, _, i in scored if sup >= best - 0.05][:2]
        return [sources[i].model_copy(update={"cited": True, "inferred": True}) for i in picked]

    # --- status -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        snap = self._retriever.snapshot if self._retriever else None
        probe = getattr(self.llm, "health", None)  # a remote backend: is its server up?
        server: dict[str, Any] | None = probe() if callable(probe) else None
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
