"""How the remote backend's requests go over the wire: the ``openai`` SDK client, the
streamed completion request (``/v1/completions`` for a prompt rendered here,
``/v1/chat/completions`` for messages the server renders), and the text of each chunk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import openai

from app.llm.base import Message, RenderedPrompt


@dataclass
class RemotePrompt(RenderedPrompt):
    """A rendered prompt plus how it goes over the wire.

    ``messages`` set: the server renders them (chat mode) and ``tokens`` is only as long
    as the estimated prompt (placeholder ids). Otherwise ``send_text`` is posted to
    ``/v1/completions`` (``text`` without a leading BOS the server adds itself).
    """

    messages: list[Message] | None = None
    send_text: str | None = None


@dataclass(frozen=True)
class WireRequest:
    """The sampling settings and time allowed for one streamed answer."""

    model: str
    max_tokens: int
    temperature: float
    top_p: float
    seed: int
    timeout: openai.Timeout
    repeat_penalty: float = 1.0  # llama.cpp servers read it, others ignore it


# the SDK would send OPENAI_ORG_ID and OPENAI_PROJECT_ID from the environment
_NO_ORGANIZATION: dict[str, Any] = {
    "OpenAI-Organization": openai.Omit(),
    "OpenAI-Project": openai.Omit(),
}


class Wire:
    """The ``openai`` SDK client of one model server, with ragqa's credentials only: no
    retries (a failure is reported at once), the key given or no ``Authorization`` header
    at all, and none of the SDK's ``OPENAI_*`` environment credentials."""

    def __init__(
        self, base_url: str, api_key: str | None, timeout: float, connect_timeout: float
    ) -> None:
        # the SDK refuses to start without a key and would read OPENAI_API_KEY: a
        # placeholder keeps the environment out, and without a key every request omits
        # the header (the SDK accepts an omitted header only per request)
        self._headers: dict[str, Any] = {} if api_key else {"Authorization": openai.Omit()}
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "unused",
            default_headers=_NO_ORGANIZATION,
            timeout=openai.Timeout(timeout, connect=connect_timeout),
            max_retries=0,
        )

    def model_ids(self) -> list[str]:
        """The ids ``GET /v1/models`` lists."""
        page = self.client.models.list(extra_headers=self._headers)
        data = getattr(page, "data", None) or []
        return [str(m.id) for m in data if getattr(m, "id", None)]

    def post(self, url: str, body: dict[str, Any]) -> object:
        """POST a JSON body to any route (an absolute URL); the decoded JSON reply."""
        return self.client.post(url, cast_to=object, body=body, options={"headers": self._headers})

    def get(self, url: str, timeout: float) -> str:
        return self.client.get(
            url, cast_to=str, options={"headers": self._headers, "timeout": timeout}
        )

    def open_stream(self, prompt: RenderedPrompt, r: WireRequest) -> Any:
        """Send the request; the SDK's stream of chunks (a context manager that closes the
        connection, which stops generation on llama.cpp and vLLM servers)."""
        extra = {"repeat_penalty": r.repeat_penalty}
        if isinstance(prompt, RemotePrompt) and prompt.messages is not None:
            return self.client.chat.completions.create(
                model=r.model,
                messages=cast(Any, prompt.messages),
                max_tokens=r.max_tokens,
                temperature=r.temperature,
                top_p=r.top_p,
                seed=r.seed,
                stream=True,
                extra_headers=self._headers,
                extra_body=extra,
                timeout=r.timeout,
            )
        send = prompt.send_text if isinstance(prompt, RemotePrompt) else None
        return self.client.completions.create(
            model=r.model,
            prompt=send if send is not None else prompt.text,
            stop=prompt.stop if prompt.stop else openai.Omit(),
            max_tokens=r.max_tokens,
            temperature=r.temperature,
            top_p=r.top_p,
            seed=r.seed,
            stream=True,
            extra_headers=self._headers,
            extra_body=extra,
            timeout=r.timeout,
        )


def piece_of(event: Any, chat: bool) -> tuple[str, bool]:
    """The text of one streamed chunk, and whether it carries a finish_reason."""
    choices = getattr(event, "choices", None) or []
    choice = choices[0] if isinstance(choices, list) and choices else None
    if choice is None or isinstance(choice, (str, int, float)):
        return "", False
    done = getattr(choice, "finish_reason", None) is not None
    if chat:
        delta = getattr(choice, "delta", None)
        return str(getattr(delta, "content", None) or ""), done
    return str(getattr(choice, "text", None) or ""), done
