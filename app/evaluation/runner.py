"""Run a question set in-process or against a server, and score every answer.

Both backends go through the same public surface (ask + retrieve + document text), so a
run over HTTP gives the same numbers as a run in-process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from app.evaluation.dataset import EvalItem
from app.evaluation.metrics import (
    contains_answer,
    covers,
    exact_match,
    locate,
    percentile,
    token_f1,
)

KS = (1, 3, 5, 10)
TYPES = ("factoid", "numeric", "multi_hop", "unanswerable")


class Backend(Protocol):
    name: str

    def ask(self, question: str) -> dict[str, Any]: ...

    def retrieve(self, question: str, k: int) -> list[dict[str, Any]]: ...

    def document_text(self, doc_id: str) -> str: ...


class InProcessBackend:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.name = f"in-process ({service.llm.name if service.llm else 'no model'})"

    def ask(self, question: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.service.ask(question).model_dump()
        return answer

    def retrieve(self, question: str, k: int) -> list[dict[str, Any]]:
        passages, _ = self.service.search(question, k)
        return [p.model_dump() for p in passages]

    def document_text(self, doc_id: str) -> str:
        from app.services.documents import DocumentService

        _, text = DocumentService(self.service.index).get_document(doc_id)
        return str(text)


class HttpBackend:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 600.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)
        self.name = f"http ({url})"
        self._docs: dict[str, str] = {}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for _ in range(60):
            r = self.client.post(path, json=body)
            if r.status_code == 503 and "retry-after" in r.headers:
                time.sleep(float(r.headers["retry-after"]))
                continue
            r.raise_for_status()
            data: dict[str, Any] = r.json()
            return data
        raise RuntimeError(f"{path}: the server stayed busy")

    def ask(self, question: str) -> dict[str, Any]:
        return self._post("/api/ask", {"question": question})

    def retrieve(self, question: str, k: int) -> list[dict[str, Any]]:
        passages: list[dict[str, Any]] = self._post(
            "/api/retrieve", {"question": question, "top_k": k}
        )["passages"]
        return passages

    def document_text(self, doc_id: str) -> str:
        if doc_id not in self._docs:
            r = self.client.get(f"/api/documents/{doc_id}")
            r.raise_for_status()
            self._docs[doc_id] = r.json()["text"]
        return self._docs[doc_id]


def _covering(
    passages: Sequence[dict[str, Any]], evidence: Sequence[str], doc_text: Callable[[str], str]
) -> list[set[int]]:
    """For each passage, the indexes of the evidence passages it covers."""
    out = []
    for p in passages:
        text = doc_text(p["doc_id"])
        found = set()
        for i, ev in enumerate(evidence):
            if covers(p["text"], (p["start"], p["end"]), ev, locate(ev, text)):
                found.add(i)
        out.append(found)
    return out


def sentence_precision(
    citations: Sequence[dict[str, Any]], evidence: Sequence[str], doc_text: Callable[[str], str]
) -> float:
    """Share of citations whose quoted sentence lies in an evidence passage: the quote's
    span overlaps the evidence's span by at least half of the quote, or holds the whole
    evidence (an evidence written as part of a sentence, "killed on 38 hectares of
    vines", is stated by the sentence around it). A citation with no quoted sentence
    points at no sentence, so it does not count as precise."""
    good = 0
    for c in citations:
        qs, qe = c.get("quote_start"), c.get("quote_end")
        if qs is None or qe is None:
            continue
        text = doc_text(c["doc_id"])
        for ev in evidence:
            span = locate(ev, text)
            if span and (
                min(qe, span[1]) - max(qs, span[0]) >= 0.5 * (qe - qs)
                or qs <= span[0] < span[1] <= qe
            ):
                good += 1
                break
    return good / len(citations) if citations else 0.0


def retrieval_scores(
    item: EvalItem, retrieved: list[dict[str, Any]], doc_text: Callable[[str], str]
) -> dict[str, float]:
    """hit@k, recall@k for k in KS, and the reciprocal rank of the first covering chunk."""
    cover = _covering(retrieved, item.evidence, doc_text)
    out: dict[str, float] = {}
    for k in KS:
        got = set().union(*cover[:k]) if cover[:k] else set()
        out[f"hit@{k}"] = float(bool(got))
        out[f"recall@{k}"] = len(got) / len(item.evidence)
    first = next((i for i, c in enumerate(cover) if c), None)
    out["rr"] = 0.0 if first is None else 1.0 / (first + 1)
    return out


def answer_accuracy(item: EvalItem, answer: str) -> float:
    """1.0 when a gold answer is in the answer and, for a multi-part question, every
    part is."""
    if not contains_answer(answer, item.answers):
        return 0.0
    return float(all(contains_answer(answer, part) for part in item.parts))


# what a results row keeps of each citation
CITATION_FIELDS = (
    "number",
    "doc_id",
    "chunk_id",
    "start",
    "end",
    "quote_start",
    "quote_end",
    "score",
    "inferred",
)


def score_item(
    item: EvalItem,
    answer: dict[str, Any],
    retrieved: list[dict[str, Any]],
    doc_text: Callable[[str], str],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": item.id,
        "type": item.type,
        "question": item.question,
        "gold": item.answers,
        "answer": answer["answer"],
        "answerable_pred": answer["answerable"],
        "reason": answer.get("reason"),
        "detail": answer.get("detail"),
        "model_text": answer.get("model_text"),
        "refusal_probability": answer.get("refusal_probability"),
        "certainty": answer.get("certainty"),
        "model_tokens": answer.get("model_tokens"),
        "timings": answer["timings"],
        "citations": [{k: c.get(k) for k in CITATION_FIELDS} for c in answer["citations"]],
        "retrieved": [
            {"doc_id": p["doc_id"], "chunk_id": p["chunk_id"], "score": p["score"]}
            for p in retrieved
        ],
    }
    # A question that errored or timed out is wrong whatever its type: never a refusal.
    failed = bool(answer.get("error"))
    refused = not answer["answerable"] and not failed
    if not item.answerable:
        row["refusal_correct"] = float(refused)
        return row
    row["accuracy"] = 0.0 if refused or failed else answer_accuracy(item, answer["answer"])
    # the model's own text before any answer check withheld it: the ceiling the checks
    # cannot raise (they only withhold), so accuracy - model_accuracy is what they cost
    own = answer.get("model_text") or answer["answer"]
    row["model_accuracy"] = 0.0 if failed else answer_accuracy(item, own)
    row["exact_match"] = 0.0 if refused else exact_match(answer["answer"], item.answers)
    row["f1"] = 0.0 if refused else token_f1(answer["answer"], item.answers)
    row["false_refusal"] = float(refused)
    row.update(retrieval_scores(item, retrieved, doc_text))
    n_ev = len(item.evidence)
    if not refused and answer["citations"]:
        cited_cover = _covering(answer["citations"], item.evidence, doc_text)
        stating = item.evidence + item.also_stated  # any sentence that states the answer
        precise = _covering(answer["citations"], stating, doc_text)
        row["citation_precision"] = sum(1 for c in precise if c) / len(precise)
        row["sentence_citation_precision"] = sentence_precision(
            answer["citations"], stating, doc_text
        )
        row["citation_recall"] = float(set().union(*cited_cover) == set(range(n_ev)))
    elif not refused:
        row["citation_precision"] = None
        row["sentence_citation_precision"] = None
        row["citation_recall"] = 0.0
    return row


def _mean(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def block(sub: Sequence[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(sub), "errors": sum(1 for r in sub if r.get("error"))}
        for key in (
            "accuracy",
            "model_accuracy",
            "exact_match",
            "f1",
            "refusal_correct",
            "false_refusal",
            "citation_precision",
            "sentence_citation_precision",
            "citation_recall",
            "rr",
        ):
            out[key if key != "rr" else "mrr"] = _mean(sub, key)
        for k in KS:
            out[f"hit@{k}"] = _mean(sub, f"hit@{k}")
            out[f"recall@{k}"] = _mean(sub, f"recall@{k}")
        for stage in ("retrieval_ms", "ttft_ms", "total_ms"):
            vals = [r["timings"][stage] for r in sub if r["timings"].get(stage) is not None]
            out[f"{stage}_p50"] = _round(percentile(vals, 0.5))
            out[f"{stage}_p95"] = _round(percentile(vals, 0.95))
        prompt = [r["timings"]["prompt_tokens"] for r in sub if r["timings"].get("prompt_tokens")]
        out["mean_prompt_tokens"] = round(sum(prompt) / len(prompt), 1) if prompt else None
        return out

    summary = {"overall": block(rows)}
    summary["by_type"] = {
        t: block([r for r in rows if r["type"] == t])
        for t in TYPES
        if any(r["type"] == t for r in rows)
    }
    return summary


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def run(
    items: Sequence[EvalItem],
    backend: Backend,
    progress: bool = True,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    from tqdm import tqdm

    rows = []
    for item in tqdm(items, desc="eval", disable=not progress, unit="q"):
        try:
            answer = backend.ask(item.question)
        except Exception as exc:  # one failed question must not lose the whole run
            answer = failed_answer(exc)
        retrieved = backend.retrieve(item.question, max(KS)) if item.answerable else []
        row = score_item(item, answer, retrieved, backend.document_text)
        if "error" in answer:
            row["error"] = answer["error"]
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def run_saving(
    items: Sequence[EvalItem], backend: Backend, partial: Path, resume: bool = False
) -> list[dict[str, Any]]:
    """``run``, appending each scored question to ``partial`` as it completes, so an
    interrupted run loses nothing: with ``resume`` the questions already saved there are
    kept and not asked again. Rows come back in the order of ``items``."""
    import json

    done: dict[str, dict[str, Any]] = {}
    if resume and partial.is_file():
        for line in partial.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["id"]] = row
    partial.parent.mkdir(parents=True, exist_ok=True)
    wanted = {i.id for i in items}
    done = {k: v for k, v in done.items() if k in wanted}
    with open(partial, "w", encoding="utf-8") as f:
        for row in done.values():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()

        def save(row: dict[str, Any]) -> None:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()

        new = run([i for i in items if i.id not in done], backend, on_row=save)
    by_id = {**done, **{r["id"]: r for r in new}}
    return [by_id[i.id] for i in items]


def failed_answer(exc: Exception) -> dict[str, Any]:
    """A question whose answer failed (timeout, server error) scores as unanswered."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return {
        "answer": "",
        "answerable": False,
        "reason": "error",
        "error": message,
        "citations": [],
        "timings": {"retrieval_ms": None, "ttft_ms": None, "total_ms": None},
    }
