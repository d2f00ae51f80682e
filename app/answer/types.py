"""What an answer is made of. Plain pydantic models: the API returns them as they are."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Citation(BaseModel):
    number: int = Field(description="The [n] marker in the answer text.")
    doc_id: str
    title: str
    source: str = Field(description="Path of the document the passage comes from.")
    chunk_id: str
    start: int = Field(description="Character offset where the passage starts in the document.")
    end: int = Field(description="Character offset where the passage ends (exclusive).")
    heading: str | None = None
    published: str | None = Field(
        None, description="The document's publication date as written at its top, if any."
    )
    author: str | None = Field(None, description="The document's byline, if any.")
    page: int | None = Field(
        None, description="The PDF page the passage is on (from 1); null for other formats."
    )
    text: str = Field(description="The passage itself: document text [start, end).")
    score: float = Field(description="Dense cosine similarity of question and passage.")
    cited: bool = Field(True, description="False for sources given to the model but not cited.")
    quote: str | None = Field(
        None, description="The sentence of the passage that states the answer, when found."
    )
    quote_start: int | None = Field(
        None, description="Where that sentence starts in the document (character offset)."
    )
    quote_end: int | None = Field(None, description="Where it ends (exclusive).")
    inferred: bool = Field(
        False,
        description="True when the model cited nothing and ragqa attached this source "
        "because it is the passage most similar to the answer.",
    )


class TokenProbability(BaseModel):
    text: str
    probability: float


class Timings(BaseModel):
    retrieval_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: float | None = Field(None, description="Time to first token (null if no LLM call).")
    generation_ms: float = 0.0
    total_ms: float = 0.0


class Answer(BaseModel):
    question: str
    answer: str
    answerable: bool
    reason: str = Field(
        "answered",
        description="Why the answer is what it is: `answered`; or why it was withheld: "
        "`empty_index`, `weak_retrieval` (retrieval), or the name of the answer check "
        "that withheld it (`model_refused`, `unsupported`, `unsure`, `not_stated`; see "
        "app/answer/checks.py).",
    )
    detail: str | None = Field(
        None,
        description="Why a withheld answer was withheld, in words (the answer itself is "
        "always ragqa's fixed refusal sentence).",
    )
    citations: list[Citation] = Field(description="Sources the answer cites, by marker number.")
    sources: list[Citation] = Field(description="Every source that was given to the model.")
    timings: Timings
    model: str
    retrieval_query: str | None = None
    refusal_probability: float | None = Field(
        None,
        description="Set when the model first gave the refusal sentence but with a word "
        "below RAGQA_REFUSAL_DOUBT, and answered from its next most likely word instead: "
        "the refusal's probability at that word.",
    )
    model_text: str | None = Field(
        None,
        description="The model's own text, before the answer checks (None when the model "
        "was not called). For a withheld answer, the text that was withheld; a stream "
        "sends the same text as its tokens.",
    )
    certainty: float | None = Field(
        None,
        description="How sure the model was of its claim: the least probability it gave a "
        "token of the figures and names its answer adds to the question (answer check "
        "`unsure`). None when the backend cannot say or the answer claims nothing.",
    )
    model_tokens: list[TokenProbability] | None = Field(
        None,
        description="model_text's tokens, each with the probability the model gave it "
        "(in-process model only).",
    )


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    source: str
    content_hash: str
    n_chunks: int
    n_chars: int
    added_at: float
    published: str | None = Field(
        None, description="Publication date from the date line or byline at the top."
    )
    author: str | None = Field(None, description="Author from the byline at the top.")
    duplicate: bool = False
