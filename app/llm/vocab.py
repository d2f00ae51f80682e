"""A GGUF's tokenizer and chat template without its weights (llama.cpp ``vocab_only``):
what the remote backend needs to render and count prompts exactly as the in-process one."""

from __future__ import annotations

from pathlib import Path

from app.errors import ModelUnavailable
from app.llm.chat_format import Formatter, model_formatter


class Vocab:
    """A GGUF's tokenizer and chat template, without its weights (a few MB)."""

    def __init__(self, path: Path, chat_format: str | None) -> None:
        from llama_cpp import Llama

        from app.llm.cpu_variant import load_cpu_variant

        try:
            load_cpu_variant()
            self.llama = Llama(model_path=str(path), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable(
                f"could not read the tokenizer of {path} ({exc}); with RAGQA_LLM_BACKEND=openai "
                "RAGQA_MODEL_PATH is optional and only needs the GGUF the server serves"
            ) from exc
        self.bos_id = self.llama.token_bos()
        get = self.llama._model.token_get_text
        self.bos_text = get(self.bos_id) if self.bos_id != -1 else ""
        self.adds_bos = bool(self.llama._model.add_bos_token())
        self.formatter: Formatter = model_formatter(self.llama, chat_format)

    def tokenize(self, text: str, add_bos: bool, special: bool) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special))
