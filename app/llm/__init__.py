"""Generation backends. ``load_llm`` builds the one the settings ask for."""

from __future__ import annotations

from app.llm.local import LocalLLM
from app.llm.model_files import resolve_model_path
from app.settings import Settings


def load_llm(settings: Settings) -> LocalLLM:
    return LocalLLM(
        resolve_model_path(settings),
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_batch=settings.n_batch,
        chat_format=settings.chat_format,
        seed=settings.seed,
    )
