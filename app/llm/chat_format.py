"""Chat templates shared by the backends that render prompts with llama-cpp-python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.errors import ModelUnavailable

Formatter = Callable[..., Any]


def named_formatter(name: str) -> Formatter:
    """A llama-cpp-python chat formatter by its registered name (``llama-2``, ``chatml``…)."""
    from llama_cpp import llama_chat_format as lcf

    wanted = name.replace("-", "").replace("_", "").lower()
    for attr in dir(lcf):
        if attr.startswith("format_") and attr[7:].replace("_", "").lower() == wanted:
            fn: Formatter = getattr(lcf, attr)
            return fn
    known = sorted(a[7:].replace("_", "-") for a in dir(lcf) if a.startswith("format_"))
    raise ModelUnavailable(
        f"unknown chat format {name!r}; RAGQA_CHAT_FORMAT can be one of: {', '.join(known)}"
    )


def model_formatter(llama: Any, chat_format: str | None) -> Formatter:
    """The GGUF's own Jinja chat template when ``chat_format`` is None and it has one,
    else the named llama-cpp-python format (``llama-2`` by default)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if chat_format is None and template:
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        get = llama._model.token_get_text
        return Jinja2ChatFormatter(
            template=template,
            eos_token=get(eos_id) if eos_id != -1 else "",
            bos_token=get(bos_id) if bos_id != -1 else "",
        )
    return named_formatter(chat_format or "llama-2")
