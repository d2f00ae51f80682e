"""The remote backend's failures as ragqa's errors, each saying which setting to check.

The ``openai`` SDK raises :class:`openai.APIStatusError` for an HTTP error status,
:class:`openai.APIConnectionError` (and its :class:`openai.APITimeoutError`) when the
server cannot be reached or stops answering, and :class:`openai.APIError` for an error a
stream reports mid-answer. The transport's own exception is kept as the cause; its name
and text are what the messages quote.
"""

from __future__ import annotations

from typing import Any, Protocol

import openai

from app.errors import Busy, GenerationTimeout, ModelUnavailable, RagqaError


class HttpResponse(Protocol):
    status_code: int
    headers: Any

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def cause(exc: BaseException) -> BaseException:
    """The transport's exception behind an SDK error (``ConnectError``, ``ReadTimeout``…)."""
    return exc.__cause__ or exc


def is_connect_timeout(exc: openai.APIConnectionError) -> bool:
    return type(cause(exc)).__name__ == "ConnectTimeout"


def is_read_timeout(exc: openai.APIConnectionError) -> bool:
    return type(cause(exc)).__name__ == "ReadTimeout"


def unreachable(base_url: str, exc: BaseException) -> ModelUnavailable:
    exc = cause(exc)
    return ModelUnavailable(
        f"cannot reach the model server at {base_url} ({type(exc).__name__}: {exc}); "
        "check that it is running and that RAGQA_LLM_BASE_URL is its OpenAI base URL "
        "(ending in /v1)"
    )


def _detail(r: HttpResponse) -> str:
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
    return detail


def http_error(base_url: str, r: HttpResponse) -> RagqaError:
    """An error status from the model server: busy (429/503, with its Retry-After), a
    wrong key, a wrong URL or model, a prompt too long, or a failure of its own."""
    where = f"the model server at {base_url} answered HTTP {r.status_code}: {_detail(r)}"
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


def request_error(base_url: str, exc: openai.OpenAIError) -> RagqaError:
    """A request that got no answer, or an error answer (not a stream's)."""
    if isinstance(exc, openai.APIStatusError):
        return http_error(base_url, exc.response)
    return unreachable(base_url, exc)


def stream_error(base_url: str, exc: openai.OpenAIError, waited: float) -> RagqaError:
    """What went wrong while streaming an answer; ``waited``: the read timeout in s."""
    if isinstance(exc, openai.APIStatusError):
        return http_error(base_url, exc.response)
    if isinstance(exc, openai.APITimeoutError) and not is_connect_timeout(exc):
        return GenerationTimeout(
            f"the model server at {base_url} sent nothing for {waited:.0f} s "
            "(RAGQA_REQUEST_TIMEOUT)"
        )
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIConnectionError):
        body = exc.body
        message = body.get("message") if isinstance(body, dict) else str(body)
        return ModelUnavailable(f"the model server at {base_url} failed mid-answer: {message}")
    return unreachable(base_url, exc)
