"""A generation backend on another machine: any OpenAI-compatible server.

``RAGQA_LLM_BACKEND=openai`` sends ragqa's prompts to ``RAGQA_LLM_BASE_URL`` (llama.cpp's
server, llama-cpp-python's server, vLLM, Ollama, …) instead of loading a GGUF in-process.
Retrieval, prompt fitting, citations and refusals are unchanged: only the generation step
moves.

Two ways to send a prompt, chosen by what ragqa has locally:

``completions`` (exact)
    ``RAGQA_MODEL_PATH`` points at a copy of the GGUF the server serves (or any GGUF with
    the same tokenizer and chat template). ragqa loads only its vocabulary (no weights,
    a few MB), renders the chat prompt with the GGUF's template exactly as the in-process
    backend does, counts it with the model's own tokenizer and sends the text to
    ``/v1/completions``. The server sees the same tokens as the in-process backend would,
    so the same settings (temperature 0, seed) give the same answer.
    ``RAGQA_CHAT_FORMAT`` alone (a llama-cpp-python format name) also renders locally; the
    token counts then come from the server.

``chat`` (portable)
    Neither is set: the messages go to ``/v1/chat/completions`` and the server applies its
    own template. Token counts come from the server's tokenize endpoint when it has one
    (llama-cpp-python ``/extras/tokenize``, llama.cpp and vLLM ``/tokenize``), otherwise
    they are estimated (3 characters a token, which over-counts English, so the prompt
    stays inside ``RAGQA_N_CTX``).

Requests go through the official ``openai`` SDK (no retries: a failure is reported at
once); the non-OpenAI routes (tokenize, ``/health``) through the same client. Connection
failures become :class:`ModelUnavailable` naming ``RAGQA_LLM_BASE_URL``; a busy server
(429/503) becomes :class:`Busy` with its Retry-After (:mod:`app.llm.remote_errors`). The key
is ``RAGQA_LLM_API_KEY`` alone: without it no ``Authorization`` header is sent, and the
SDK's ``OPENAI_API_KEY``, ``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID`` are not read. The
server is contacted lazily, so ragqa starts while the model server is still coming up, and
``health()`` reports whether it is reachable now.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import openai

from app.errors import Cancelled, GenerationTimeout, ModelUnavailable, RagqaError
from app.llm.base import Message, RenderedPrompt
from app.llm.chat_format import Formatter, named_formatter
from app.llm.remote_errors import (
    cause,
    http_error,
    is_read_timeout,
    request_error,
    stream_error,
    unreachable,
)
from app.llm.remote_wire import RemotePrompt, Wire, WireRequest, piece_of
from app.llm.vocab import Vocab

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

CHARS_PER_TOKEN_ESTIMATE = 3
MESSAGE_OVERHEAD_TOKENS = 8  # role markers and separators a chat template adds per message
HEALTH_CACHE_SECONDS = 5.0
# the tokenize routes tried, in order: (path at the server's root, the text's field)
TOKENIZE_ROUTES = [
    ("/extras/tokenize", "input"),  # llama-cpp-python
    ("/tokenize", "content"),  # llama.cpp server; vLLM reads "prompt"
]


class RemoteLLM:
    """Implements :class:`app.llm.base.LLM` over HTTP, with the optional abilities
    :class:`~app.llm.base.Remote` and :class:`~app.llm.base.ReportsHealth`."""

    is_remote = True

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        model: str | None = None,
        n_ctx: int = 4096,
        seed: int = 42,
        chat_format: str | None = None,
        tokenizer_path: Path | None = None,
        timeout: float = 300.0,
        connect_timeout: float = 10.0,
        repeat_penalty: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.root_url = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        self.n_ctx = n_ctx
        self.seed = seed
        self.repeat_penalty = repeat_penalty
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._model = model
        self._lock = threading.Lock()
        self._wire = Wire(self.base_url, api_key, timeout, connect_timeout)
        self._vocab = Vocab(tokenizer_path, chat_format) if tokenizer_path else None
        self._formatter: Formatter | None = (
            self._vocab.formatter
            if self._vocab
            else named_formatter(chat_format)
            if chat_format
            else None
        )
        self.mode: Literal["completions", "chat"] = "completions" if self._formatter else "chat"
        self._tokenize_route: tuple[str, str] | None | Literal[False] = None  # False: none
        self._count_cache: OrderedDict[str, int] = OrderedDict()
        self._health: tuple[float, dict[str, Any]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteLLM:
        if not settings.llm_base_url:
            raise ModelUnavailable(
                "RAGQA_LLM_BACKEND=openai needs RAGQA_LLM_BASE_URL, the OpenAI base URL of the "
                "model server, e.g. http://127.0.0.1:8080/v1"
            )
        return cls(
            settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            n_ctx=settings.n_ctx,
            seed=settings.seed,
            chat_format=settings.chat_format,
            tokenizer_path=settings.model_path,
            timeout=settings.request_timeout,
            repeat_penalty=settings.repeat_penalty,
        )

    # --- model id ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model id, for display: as :meth:`model_id`, or ``unresolved`` while the
        server cannot be asked (the next call asks again)."""
        try:
            return self.model_id()
        except RagqaError:
            return "unresolved"

    def model_id(self) -> str:
        """The model id sent to the server: RAGQA_LLM_MODEL, else the first it lists."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._list_models()[0]
        return self._model

    def _list_models(self) -> list[str]:
        # some servers answer this only between generations: allow a generation's time
        try:
            ids = self._wire.model_ids()
        except openai.OpenAIError as exc:
            raise request_error(self.base_url, exc) from exc
        if not ids:
            raise ModelUnavailable(
                f"the model server at {self.base_url} lists no models; set RAGQA_LLM_MODEL"
            )
        return ids

    # --- tokens -----------------------------------------------------------------------
    def _remote_tokenize(self, text: str) -> list[int] | None:
        """Tokens from the server's tokenize endpoint, or None when it has none."""
        if self._tokenize_route is False:
            return None
        candidates = [self._tokenize_route] if self._tokenize_route else TOKENIZE_ROUTES
        for path, key in candidates:
            body: dict[str, Any] = {key: text}
            if path == "/tokenize":
                body.update(prompt=text, model=self.model_id(), add_special_tokens=False)
            try:
                reply = self._wire.post(f"{self.root_url}{path}", body)
            except openai.APIStatusError as exc:
                if exc.status_code in (401, 403):
                    raise http_error(self.base_url, exc.response) from exc
                continue  # no such route here: the next one
            except openai.APIConnectionError as exc:
                raise unreachable(self.base_url, exc) from exc
            tokens = reply.get("tokens") if isinstance(reply, dict) else None
            if isinstance(tokens, list):
                self._tokenize_route = (path, key)
                return [int(t) if isinstance(t, int) else 0 for t in tokens]
        if self._tokenize_route is None:
            log.info("%s has no tokenize endpoint: token counts are estimated", self.base_url)
            self._tokenize_route = False
        return None

    def count_tokens(self, text: str) -> int:
        if self._vocab is not None:
            return len(self._vocab.tokenize(text, add_bos=False, special=False))
        cached = self._count_cache.get(text)
        if cached is not None:
            return cached
        tokens = self._remote_tokenize(text) if text else []
        n = len(tokens) if tokens is not None else math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)
        with self._lock:
            self._count_cache[text] = n
            while len(self._count_cache) > 512:
                self._count_cache.popitem(last=False)
        return n

    # --- prompt -----------------------------------------------------------------------
    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        msgs = [dict(m) for m in messages]
        if self._formatter is None:
            n = MESSAGE_OVERHEAD_TOKENS + sum(
                self.count_tokens(m.get("content", "")) + MESSAGE_OVERHEAD_TOKENS for m in msgs
            )
            text = "\n\n".join(f"{m.get('role')}: {m.get('content', '')}" for m in msgs)
            return RemotePrompt(text, [0] * n, [], messages=msgs)
        result = self._formatter(messages=msgs)
        stop = (
            result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        )
        prompt: str = result.prompt
        send = prompt
        if self._vocab is not None:
            v = self._vocab
            # exactly the tokens the in-process backend would evaluate
            tokens = v.tokenize(prompt, add_bos=not result.added_special, special=True)
            # servers tokenise a text prompt with the model's own BOS rule: do not send a
            # BOS the template wrote when the server adds one anyway
            if v.adds_bos and v.bos_text and prompt.startswith(v.bos_text):
                send = prompt[len(v.bos_text) :]
        else:
            remote = self._remote_tokenize(prompt)
            n = len(remote) if remote is not None else self.count_tokens(prompt)
            tokens = remote if remote is not None else [0] * n
        return RemotePrompt(prompt, tokens, [s for s in stop if s], send_text=send)

    # --- generation -------------------------------------------------------------------
    def stream(
        self,
        prompt: RenderedPrompt,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as the server streams them (SSE). Closing the generator
        closes the connection, which stops generation on llama.cpp and vLLM servers."""
        max_tokens = min(max_tokens, self.n_ctx - len(prompt.tokens))
        if max_tokens < 1:
            raise ValueError("prompt leaves no room to answer")  # the prompt builder prevents it
        model = self.model_id()
        remaining = self.timeout if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            raise GenerationTimeout("the answer ran out of time before generation started")
        request = WireRequest(
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=1.0 if temperature == 0 else 0.95,
            seed=self.seed,
            repeat_penalty=self.repeat_penalty,
            timeout=openai.Timeout(remaining, connect=min(self.connect_timeout, remaining)),
        )
        try:
            yield from self._pieces(prompt, request, cancel, deadline)
        except openai.OpenAIError as exc:
            raise stream_error(self.base_url, exc, remaining) from exc
        except json.JSONDecodeError as exc:
            raise ModelUnavailable(
                f"the model server at {self.base_url} streamed something that is not JSON: {exc}"
            ) from exc

    def _pieces(
        self,
        prompt: RenderedPrompt,
        request: WireRequest,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> Iterator[str]:
        chat = isinstance(prompt, RemotePrompt) and prompt.messages is not None
        events = self._wire.open_stream(prompt, request)
        with events:
            finished = False
            for event in events:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the client cancelled the answer")
                if deadline is not None and time.monotonic() > deadline:
                    raise GenerationTimeout(
                        "the answer took longer than RAGQA_REQUEST_TIMEOUT allows; "
                        "ask a narrower question or raise the timeout"
                    )
                piece, done = piece_of(event, chat)
                finished = finished or done
                if piece:
                    yield piece
        if not finished:
            # every OpenAI-compatible server ends a complete answer with a finish_reason;
            # llama-cpp-python's server, unless started with --interrupt_requests False,
            # ends a stream early with a bare [DONE] as soon as another request arrives:
            # a cut answer, not a short one
            raise ModelUnavailable(
                f"the model server at {self.base_url} ended the answer before it was "
                "finished. If it is llama-cpp-python's server, start it with "
                "--interrupt_requests False: by default it cuts a stream short when "
                "another request arrives"
            )

    # --- status -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Whether the model server answers now (cached a few seconds: /health is polled).

        It asks ``GET /health`` at the server's root: llama.cpp's server and vLLM answer
        200 when ready and 503 while loading; a server without that route (llama-cpp-python,
        Ollama) answers 404, which proves it is up. Nothing that waits for the model is
        asked: llama-cpp-python's server serves even ``/v1/models`` only between
        generations, and by default cuts the running answer short to do so.
        """
        now = time.monotonic()
        cached = self._health
        if cached is not None and now - cached[0] < HEALTH_CACHE_SECONDS:
            return cached[1]
        error, busy = None, False
        url = f"{self.root_url}/health"
        try:
            self._wire.get(url, timeout=3.0)
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                error = f"HTTP {exc.status_code} from {url} (still loading the model?)"
        except openai.APIConnectionError as exc:
            if is_read_timeout(exc):
                busy = True  # connected, but slow to answer: up and working, not down
            else:
                reason = cause(exc)
                error = f"{type(reason).__name__}: {reason}"
        result: dict[str, Any] = {
            "backend": "openai",
            "url": self.base_url,
            "mode": self.mode,
            "reachable": error is None,
            "busy": busy,
            "error": error,
        }
        self._health = (now, result)
        return result
