"""The peer: LlamaIndex's standard local recipe, scored by ragqa's own evaluator.

Same corpus, same embedder (all-MiniLM-L6-v2, the bundled copy), same GGUF through
llama-cpp-python, same context window, answer cap, temperature and threads as ragqa.
Everything else is LlamaIndex's default: ``SimpleDirectoryReader`` →
``VectorStoreIndex.from_documents`` (SentenceSplitter, 1024-token chunks, 200 overlap) →
``as_query_engine()`` (top-2, "compact" response synthesis, its default QA template).

LlamaIndex is a benchmark tool here, not a dependency of ragqa::

    pip install -r bench/requirements-peer.txt   # into the ragqa venv, after scripts/setup.sh
    HF_HUB_OFFLINE=1 python bench/peer_llamaindex.py data/eval/questions.jsonl --out runs/peer

The run is written exactly like ``ragqa eval`` (results.jsonl, summary.json, report.md,
plots), so ``ragqa eval compare runs/default runs/peer`` puts the two side by side. The peer
does not cite: its citations are the source nodes it put in the prompt. It does not refuse
by design: an answer is counted as a refusal by the same detector ragqa uses on its own
model's text (``app.answer.citations.is_refusal``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.answer.citations import is_refusal  # noqa: E402
from app.embedding import resolve_embed_model  # noqa: E402
from app.evaluation import report, runner  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.llm.local import physical_cores  # noqa: E402
from app.llm.model_files import resolve_model_path  # noqa: E402
from app.provenance import machine  # noqa: E402
from app.settings import Settings  # noqa: E402


class LlamaIndexBackend:
    """The evaluator's backend protocol (ask, retrieve, document_text) over LlamaIndex."""

    def __init__(self, corpus: Path, settings: Settings) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        from llama_index.core import Settings as LISettings
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.llms.llama_cpp import LlamaCPP
        from transformers import AutoTokenizer

        from app.llm.cpu_variant import load_cpu_variant

        load_cpu_variant()  # ragqa's llama.cpp keeps its CPU code in per-CPU modules
        embed_dir = resolve_embed_model("bundled:all-MiniLM-L6-v2")
        # LlamaIndex counts chunk tokens with tiktoken unless told otherwise; tiktoken's
        # tables download at first use, so count with the embedder's own tokenizer.
        LISettings.tokenizer = AutoTokenizer.from_pretrained(embed_dir).encode
        LISettings.embed_model = HuggingFaceEmbedding(model_name=embed_dir)
        model_path = resolve_model_path(settings)
        self.prompts: list[str] = []
        llm = LlamaCPP(
            model_path=str(model_path),
            temperature=settings.temperature,
            max_new_tokens=settings.max_tokens,
            context_window=settings.n_ctx,
            model_kwargs={
                "n_threads": settings.n_threads or physical_cores(),
                "n_batch": settings.n_batch,
                "seed": settings.seed,
            },
            verbose=False,
        )
        # The recipe's default prompt format is Llama-2's; render with the GGUF's own chat
        # template instead, as ragqa does, so both send the model its native format.
        meta = llm._model.metadata
        fmt = Jinja2ChatFormatter(
            template=meta["tokenizer.chat_template"],
            eos_token=llm._model.detokenize([llm._model.token_eos()]).decode(),
            bos_token=llm._model.detokenize([llm._model.token_bos()]).decode(),
        )

        def messages_to_prompt(messages: Any) -> str:
            msgs = [{"role": m.role.value, "content": m.content or ""} for m in messages]
            prompt = fmt(messages=msgs).prompt
            self.prompts.append(prompt)
            return prompt

        def completion_to_prompt(completion: str) -> str:
            prompt = fmt(messages=[{"role": "user", "content": completion}]).prompt
            self.prompts.append(prompt)
            return prompt

        llm.messages_to_prompt = messages_to_prompt
        llm.completion_to_prompt = completion_to_prompt
        LISettings.llm = llm
        self.llm = llm
        documents = SimpleDirectoryReader(str(corpus)).load_data()
        self.doc_text = {d.doc_id: d.text for d in documents}
        self.index = VectorStoreIndex.from_documents(documents)
        self.chunk_size, self.chunk_overlap = LISettings.chunk_size, LISettings.chunk_overlap
        self.engine = self.index.as_query_engine(streaming=True)
        self.name = f"LlamaIndex local recipe ({model_path.name})"

    @staticmethod
    def _passage(node: Any, rank: int) -> dict[str, Any]:
        n = node.node
        return {
            "number": rank,
            "doc_id": n.ref_doc_id,
            "chunk_id": n.node_id,
            "start": n.start_char_idx,
            "end": n.end_char_idx,
            "score": float(node.score or 0.0),
            "inferred": True,
            "text": n.get_content(),
        }

    def ask(self, question: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        self.prompts.clear()
        response = self.engine.query(question)
        first: float | None = None
        parts = []
        for token in response.response_gen:
            if first is None:
                first = time.perf_counter()
            parts.append(token)
        total = time.perf_counter() - t0
        answer = "".join(parts).strip()
        prompt_tokens = sum(len(self.llm._model.tokenize(p.encode())) for p in self.prompts)
        refused = is_refusal(answer)
        return {
            "answer": answer,
            "answerable": not refused,
            "reason": "model_refused" if refused else "answered",
            "citations": []
            if refused
            else [self._passage(n, i + 1) for i, n in enumerate(response.source_nodes)],
            "timings": {
                "retrieval_ms": None,
                "ttft_ms": None if first is None else round((first - t0) * 1000, 1),
                "total_ms": round(total * 1000, 1),
                "prompt_tokens": prompt_tokens,
                "llm_calls": len(self.prompts),
            },
        }

    def retrieve(self, question: str, k: int) -> list[dict[str, Any]]:
        nodes = self.index.as_retriever(similarity_top_k=k).retrieve(question)
        return [self._passage(n, i + 1) for i, n in enumerate(nodes)]

    def document_text(self, doc_id: str) -> str:
        return self.doc_text[doc_id]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--corpus", type=Path, default=ROOT / "data" / "articles")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "peer-llamaindex")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--resume", action="store_true", help="continue an interrupted run")
    args = ap.parse_args()
    settings = Settings()
    items = load_questions(args.questions)[: args.limit]
    t0 = time.perf_counter()
    backend = LlamaIndexBackend(args.corpus, settings)
    print(f"LlamaIndex ingest + model load: {time.perf_counter() - t0:.1f} s", flush=True)
    rows = runner.run_saving(items, backend, args.out / "results.partial.jsonl", args.resume)
    summary = runner.summarise(rows)
    meta = {
        **machine(),  # commit, dirty, date, cpu, cores: as `ragqa eval` records them
        "backend": backend.name,
        "questions": str(args.questions),
        "settings": {
            "recipe": "SimpleDirectoryReader + VectorStoreIndex + as_query_engine() defaults",
            "chunk_size": backend.chunk_size,
            "chunk_overlap": backend.chunk_overlap,
            "similarity_top_k": 2,
            "chunks": len(backend.index.docstore.docs),
            "max_tokens": settings.max_tokens,
            "n_ctx": settings.n_ctx,
            "temperature": settings.temperature,
        },
    }
    report.write_run(args.out, rows, summary, meta)
    print((args.out / "report.md").read_text("utf-8").split("\n\n![")[0])
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
