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

Connection failures become :class:`ModelUnavailable` naming ``RAGQA_LLM_BASE_URL``; a busy
server (429/503) becomes :class:`Busy` with its Retry-After. The server is contacted
lazily, so ragqa starts while the model server is still coming up, and ``health()``
reports whether it is reachable now.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from app.errors import Busy, Cancelled, GenerationTimeout, ModelUnavailable, RagqaError
from app.llm.base import Message, RenderedPrompt
from app.llm.chat_format import Formatter, model_formatter, named_formatter

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

CHARS_PER_TOKEN_ESTIMATE = 3
MESSAGE_OVERHEAD_TOKENS = 8  # role markers and separators a chat template adds per message
HEALTH_CACHE_SECONDS = 5.0
REPEAT_PENALTY = 1.1  # as the in-process backend


@dataclass
class RemotePrompt(RenderedPrompt):
    """A rendered prompt plus how it goes over the wire.

    ``messages`` set: the server renders them (chat mode) and ``tokens`` is only as long
    as the estimated prompt (placeholder ids). Otherwise ``send_text`` is posted to
    ``/v1/completions`` (``text`` without a leading BOS the server adds itself).
    """

    messages: list[Message] | None = None
    send_text: str | None = None


class _Vocab:
    """A GGUF's tokenizer and chat template, without its weights (llama.cpp vocab_only)."""

    def __init__(self, path: Path, chat_format: str | None) -> None:
        from llama_cpp import Llama

        try:
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.root_url = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        self.n_ctx = n_ctx
        self.seed = seed
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._model = model
        self._lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=connect_timeout)
        )
        self._vocab = _Vocab(tokenizer_path, chat_format) if tokenizer_path else None
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
        r = self._request("GET", f"{self.base_url}/models")
        data = r.json().get("data") or []
        ids = [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]
        if not ids:
            raise ModelUnavailable(
                f"the model server at {self.base_url} lists no models; set RAGQA_LLM_MODEL"
            )
        return ids

    # --- HTTP plumbing ----------------------------------------------------------------
    def _unreachable(self, exc: Exception) -> ModelUnavailable:
        return ModelUnavailable(
            f"cannot reach the model server at {self.base_url} ({type(exc).__name__}: {exc}); "
            "check that it is running and that RAGQA_LLM_BASE_URL is its OpenAI base URL "
            "(ending in /v1)"
        )

    def _http_error(self, r: httpx.Response) -> RagqaError:
        detail = r.text[:300]
        try:
            body = r.json()
            err = body.get("error") if isinstance(body, dict) else None
            if isinstance(err, dict) and err.get("message"):
                detail = str(err["message"])
            elif isinstance(err, str):
                detail = err
            elif isinstance(body, dict) and body.get("detail"):
                detail = str(body["detail"])
        except ValueError:
            pass
        where = f"the model server at {self.base_url} answered HTTP {r.status_code}: {detail}"
        if r.status_code in (429, 503):
            try:
                retry = max(1, int(float(r.headers.get("retry-after", "5"))))
            except ValueError:
                retry = 5
            return Busy(f"{where}; retry in {retry} s", retry_after=retry)
        if r.status_code in (401, 403):
            return ModelUnavailable(f"{where}. Set RAGQA_LLM_API_KEY to the server's key")
        if r.status_code == 404:
            return ModelUnavailable(
                f"{where}. Check RAGQA_LLM_BASE_URL (the OpenAI base URL, ending in /v1) "
                "and RAGQA_LLM_MODEL"
            )
        if r.status_code == 400:
            return ModelUnavailable(
                f"{where}. If the prompt is too long for the server, set RAGQA_N_CTX to at "
                "most the server's context size"
            )
        return ModelUnavailable(where)

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            r = self._client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if r.status_code >= 400:
            raise self._http_error(r)
        return r

    # --- tokens -----------------------------------------------------------------------
    def _remote_tokenize(self, text: str) -> list[int] | None:
        """Tokens from the server's tokenize endpoint, or None when it has none."""
        routes = [
            ("/extras/tokenize", "input"),  # llama-cpp-python
            ("/tokenize", "content"),  # llama.cpp server; vLLM reads "prompt"
        ]
        if self._tokenize_route is False:
            return None
        candidates = [self._tokenize_route] if self._tokenize_route else routes
        for path, key in candidates:
            body: dict[str, Any] = {key: text}
            if path == "/tokenize":
                body.update(prompt=text, model=self.model_id(), add_special_tokens=False)
            try:
                r = self._client.post(f"{self.root_url}{path}", json=body)
            except httpx.HTTPError as exc:
                raise self._unreachable(exc) from exc
            if r.status_code == 200:
                tokens = r.json().get("tokens")
                if isinstance(tokens, list):
                    self._tokenize_route = (path, key)
                    return [int(t) if isinstance(t, int) else 0 for t in tokens]
            if r.status_code in (401, 403):
                raise self._http_error(r)
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
        body: dict[str, Any] = {
            "model": self.model_id(),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": 1.0 if temperature == 0 else 0.95,
            "repeat_penalty": REPEAT_PENALTY,  # llama.cpp servers; others ignore it
            "seed": self.seed,
            "stream": True,
        }
        chat = isinstance(prompt, RemotePrompt) and prompt.messages is not None
        if chat:
            assert isinstance(prompt, RemotePrompt)
            url = f"{self.base_url}/chat/completions"
            body["messages"] = prompt.messages
        else:
            url = f"{self.base_url}/completions"
            send = prompt.send_text if isinstance(prompt, RemotePrompt) else None
            body["prompt"] = send if send is not None else prompt.text
            if prompt.stop:
                body["stop"] = prompt.stop
        remaining = self.timeout if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            raise GenerationTimeout("the answer ran out of time before generation started")
        timeout = httpx.Timeout(remaining, connect=min(self.connect_timeout, remaining))
        try:
            with self._client.stream("POST", url, json=body, timeout=timeout) as r:
                if r.status_code >= 400:
                    r.read()
                    raise self._http_error(r)
                finished = False
                for line in r.iter_lines():
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("the client cancelled the answer")
                    if deadline is not None and time.monotonic() > deadline:
                        raise GenerationTimeout(
                            "the answer took longer than RAGQA_REQUEST_TIMEOUT allows; "
                            "ask a narrower question or raise the timeout"
                        )
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    piece, done = self._piece(json.loads(data), chat)
                    finished = finished or done
                    if piece:
                        yield piece
                if not finished:
                    # every OpenAI-compatible server ends a complete answer with a
                    # finish_reason; llama-cpp-python's server, unless started with
                    # --interrupt_requests False, ends a stream early with a bare [DONE]
                    # as soon as another request arrives: a cut answer, not a short one
                    raise ModelUnavailable(
                        f"the model server at {self.base_url} ended the answer before it was "
                        "finished. If it is llama-cpp-python's server, start it with "
                        "--interrupt_requests False: by default it cuts a stream short when "
                        "another request arrives"
                    )
        except httpx.ConnectTimeout as exc:
            raise self._unreachable(exc) from exc
        except httpx.TimeoutException as exc:
            raise GenerationTimeout(
                f"the model server at {self.base_url} sent nothing for {remaining:.0f} s "
                "(RAGQA_REQUEST_TIMEOUT)"
            ) from exc
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        except json.JSONDecodeError as exc:
            raise ModelUnavailable(
                f"the model server at {self.base_url} streamed something that is not JSON: {exc}"
            ) from exc

    def _piece(self, event: Any, chat: bool) -> tuple[str, bool]:
        """The text of one streamed chunk, and whether it carries a finish_reason."""
        if not isinstance(event, dict):
            return "", False
        if event.get("error"):
            err = event["error"]
            message = err.get("message") if isinstance(err, dict) else str(err)
            raise ModelUnavailable(
                f"the model server at {self.base_url} failed mid-answer: {message}"
            )
        choices = event.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            return "", False
        done = choices[0].get("finish_reason") is not None
        if chat:
            delta = choices[0].get("delta") or {}
            return str(delta.get("content") or ""), done
        return str(choices[0].get("text") or ""), done

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
            r = self._client.get(url, timeout=3.0)
            if r.status_code >= 500:
                error = f"HTTP {r.status_code} from {url} (still loading the model?)"
        except httpx.ReadTimeout:
            busy = True  # connected, but slow to answer: up and working, not down
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
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
