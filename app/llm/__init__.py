"""Generation backends. ``load_llm`` builds the one the settings ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.llm.local import LocalLLM
from app.llm.model_files import resolve_model_path
from app.settings import Settings

if TYPE_CHECKING:
    from app.llm.remote import RemoteLLM


def load_llm(settings: Settings) -> LocalLLM | RemoteLLM:
    """``RAGQA_LLM_BACKEND=local``: the GGUF in-process; ``openai``: a remote server."""
    if settings.llm_backend == "openai":
        from app.llm.remote import RemoteLLM

        return RemoteLLM.from_settings(settings)
    return LocalLLM(
        resolve_model_path(settings),
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_batch=settings.n_batch,
        use_mmap=settings.use_mmap,
        chat_format=settings.chat_format,
        seed=settings.seed,
        repeat_penalty=settings.repeat_penalty,
    )
