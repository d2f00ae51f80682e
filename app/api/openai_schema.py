"""The OpenAI-compatible API's request and response bodies (``/v1/models``,
``/v1/chat/completions``, ``/v1/embeddings``), and how an :class:`Answer` fills them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.answer.service import RagService
from app.answer.types import Answer, Citation, Timings
from app.api.routers.ask import ScopeFields
from app.errors import BadInput

MAX_MESSAGES = 64
MAX_MESSAGE_CHARS = 20_000
MAX_EMBED_INPUTS = 128
MAX_EMBED_CHARS = 8_000


# --- models ---------------------------------------------------------------------------------
class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "ragqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def model_id(service: RagService) -> str:
    """The GGUF file stem for the in-process model, the server's id for a remote one."""
    if service.llm is None:
        return "ragqa"
    name = service.llm.name
    return Path(name).stem if name.endswith(".gguf") else name


# --- chat completions -------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for p in self.content:
            if p.type != "text":
                raise BadInput(f"only text message parts are supported, not {p.type!r}")
            parts.append(p.text or "")
        return "\n".join(parts)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(ScopeFields):
    """OpenAI's request; fields ragqa does not use (temperature, tools, …) are accepted
    and ignored: answers follow the server's RAGQA_TEMPERATURE and seed."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "ragqa",
                    "messages": [
                        {"role": "user", "content": "How many tokens was Llama 2 trained on?"}
                    ],
                }
            ]
        },
    )
    model: str | None = Field(None, description="Any value; ragqa answers with its own model.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, description="Capped by RAGQA_MAX_TOKENS.")
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int = Field(1, ge=1, le=1, description="Only one choice.")
    top_k: int | None = Field(None, ge=1, le=50, description="ragqa: passages to retrieve.")


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]


class RagqaExtra(BaseModel):
    answerable: bool
    reason: str
    sources: list[Citation]
    timings: Timings
    retrieval_query: str | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="ragqa: the passages the answer cites.")
    ragqa: RagqaExtra


def question_and_history(req: ChatCompletionRequest) -> tuple[str, list[dict[str, str]]]:
    texts = [(m.role, m.text()) for m in req.messages]
    for role, text in texts:
        if len(text) > MAX_MESSAGE_CHARS:
            raise BadInput(
                f"a {role} message is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}"
            )
    role, question = texts[-1]
    if role != "user":
        raise BadInput("the last message must be the user's question (role 'user')")
    history = [{"role": r, "content": t} for r, t in texts[:-1] if r in ("user", "assistant") and t]
    return question, history


def usage_of(t: Timings) -> Usage:
    return Usage(
        prompt_tokens=t.prompt_tokens,
        completion_tokens=t.completion_tokens,
        total_tokens=t.prompt_tokens + t.completion_tokens,
    )


def finish_reason(answer: Answer, cap: int | None, settings_cap: int) -> Literal["stop", "length"]:
    limit = min(cap, settings_cap) if cap else settings_cap
    return "length" if answer.timings.completion_tokens >= limit else "stop"


def extra_of(answer: Answer) -> RagqaExtra:
    return RagqaExtra(
        answerable=answer.answerable,
        reason=answer.reason,
        sources=answer.sources,
        timings=answer.timings,
        retrieval_query=answer.retrieval_query,
    )


# --- embeddings -------------------------------------------------------------------------------
class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: str | list[str] = Field(description="A text or a list of texts (not token ids).")
    model: str | None = Field(None, description="Any value; the configured embedder is used.")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage
