"""Write a run (results.jsonl, summary.json, report.md, PNG plots) and compare two runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.evaluation import metrics
from app.evaluation.runner import KS

HEADLINE = [
    ("accuracy", "answer accuracy (answerable)"),
    ("model_accuracy", "answer accuracy before the checks (the model's own text)"),
    ("exact_match", "exact match"),
    ("f1", "token F1"),
    ("refusal_correct", "refusal accuracy (unanswerable)"),
    ("false_refusal", "false-refusal rate (answerable)"),
    ("hit@5", "retrieval hit@5"),
    ("recall@5", "retrieval recall@5"),
    ("mrr", "MRR"),
    ("citation_precision", "citation precision (passage)"),
    ("sentence_citation_precision", "citation precision (sentence)"),
    ("citation_recall", "citation recall"),
    ("retrieval_ms_p50", "retrieval ms p50"),
    ("ttft_ms_p50", "first token ms p50"),
    ("total_ms_p50", "total ms p50"),
    ("total_ms_p95", "total ms p95"),
    ("mean_prompt_tokens", "mean prompt tokens"),
    ("errors", "questions that failed (error)"),
]


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) <= 1.0 else f"{v:.0f}"
    return str(v)


def write_run(
    out: Path, rows: Sequence[dict[str, Any]], summary: dict[str, Any], meta: dict[str, Any]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps({"meta": meta, **summary}, indent=2), "utf-8")
    plots = _plots(out, summary, rows)
    (out / "report.md").write_text(_markdown(rows, summary, meta, plots), "utf-8")
    (out / "results.partial.jsonl").unlink(missing_ok=True)  # the run is complete


def _markdown(
    rows: Sequence[dict[str, Any]], summary: dict[str, Any], meta: dict[str, Any], plots: list[str]
) -> str:
    types = list(summary["by_type"])
    lines = [
        "# Evaluation report\n",
        f"- backend: {meta.get('backend')}",
        f"- questions: {meta.get('questions')} ({summary['overall']['n']} items)",
        f"- settings: `{json.dumps(meta.get('settings', {}))}`",
        f"- measured: commit {meta.get('commit')}{' (uncommitted changes)' if meta.get('dirty') else ''}, "
        f"{meta.get('date')}, {meta.get('cpu')}, {meta.get('logical_cpus')} logical CPUs "
        f"({meta.get('physical_cores')} physical cores)",
        "",
    ]
    lines.append("| metric | overall | " + " | ".join(types) + " |")
    lines.append("| --- | --- | " + " | ".join("---" for _ in types) + " |")
    for key, label in HEADLINE:
        vals = [summary["overall"].get(key)] + [summary["by_type"][t].get(key) for t in types]
        lines.append(f"| {label} | " + " | ".join(_fmt(v) for v in vals) + " |")
    lines.append("")
    lines.append("| k | " + " | ".join(str(k) for k in KS) + " |")
    lines.append("| --- | " + " | ".join("---" for _ in KS) + " |")
    for what in ("hit", "recall"):
        lines.append(
            f"| {what}@k | "
            + " | ".join(_fmt(summary["overall"].get(f"{what}@{k}")) for k in KS)
            + " |"
        )
    lines.append("")
    lines += [f"![{p}]({p})" for p in plots]
    failures = [r for r in rows if r.get("accuracy") == 0.0 or r.get("refusal_correct") == 0.0]
    lines.append(f"\n## Questions answered wrongly ({len(failures)})\n")
    for r in failures:
        lines.append(
            f"- **{r['id']}** ({r['type']}) {r['question']} — gold {r['gold']} — "
            f"got: {r['answer'][:200]!r}" + (f" — error: {r['error']}" if r.get("error") else "")
        )
    lines.append("\n## Definitions\n")
    lines.append((metrics.__doc__ or "").strip().split("\n", 1)[1].strip())
    return "\n".join(lines) + "\n"


def _plots(out: Path, summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    by_type = summary["by_type"]
    labels, values = [], []
    for t, block in by_type.items():
        v = block.get("refusal_correct") if t == "unanswerable" else block.get("accuracy")
        labels.append(t if t != "unanswerable" else "unanswerable\n(refusal)")
        values.append(v or 0.0)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(labels, values, color="#4a7bd0")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title("Answer accuracy by question type")
    for i, v in enumerate(values):
        ax.text(i, v + 0.02, f"{v:.2f}", ha="center")
    fig.tight_layout()
    fig.savefig(out / "accuracy_by_type.png", dpi=110)
    plt.close(fig)
    made.append("accuracy_by_type.png")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for what in ("hit", "recall"):
        ax.plot(
            KS,
            [summary["overall"].get(f"{what}@{k}") or 0 for k in KS],
            marker="o",
            label=f"{what}@k",
        )
    ax.set_xticks(list(KS))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k")
    ax.set_title("Retrieval: hit@k and recall@k")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "recall_at_k.png", dpi=110)
    plt.close(fig)
    made.append("recall_at_k.png")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for stage in ("ttft_ms", "total_ms"):
        vals = [r["timings"][stage] / 1000 for r in rows if r["timings"].get(stage)]
        if vals:
            ax.hist(vals, bins=20, alpha=0.6, label=stage.replace("_ms", " (s)"))
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.set_title("Latency distribution")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)
    made.append("latency.png")
    return made


def compare(run_a: Path, run_b: Path) -> str:
    a = json.loads((run_a / "summary.json").read_text("utf-8"))
    b = json.loads((run_b / "summary.json").read_text("utf-8"))
    lines = [f"{'metric':34} {'A':>10} {'B':>10} {'B-A':>10}"]
    for key, label in HEADLINE:
        va, vb = a["overall"].get(key), b["overall"].get(key)
        diff = (
            f"{vb - va:+.3f}"
            if isinstance(va, (int, float)) and isinstance(vb, (int, float))
            else "–"
        )
        lines.append(f"{label:34} {_fmt(va):>10} {_fmt(vb):>10} {diff:>10}")
    ra = {r["id"]: r for r in _rows(run_a)}
    rb = {r["id"]: r for r in _rows(run_b)}
    flipped = []
    for qid in sorted(set(ra) & set(rb)):
        key = "accuracy" if "accuracy" in ra[qid] else "refusal_correct"
        if ra[qid].get(key) != rb[qid].get(key):
            arrow = "fixed" if (rb[qid].get(key) or 0) > (ra[qid].get(key) or 0) else "broke"
            flipped.append(f"  {qid} {arrow}: {ra[qid]['question']}")
    lines.append(f"\n{len(flipped)} question(s) flipped:")
    lines += flipped
    return "\n".join(lines)


def _rows(run: Path) -> list[dict[str, Any]]:
    with open(run / "results.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_thresholds(summary: dict[str, Any], thresholds: dict[str, float | None]) -> list[str]:
    """Messages for each threshold not met (max_* are upper bounds)."""
    failed = []
    for name, limit in thresholds.items():
        if limit is None:
            continue
        upper = name.startswith("max_")
        key = name.removeprefix("max_").removeprefix("min_")
        value = summary["overall"].get(key)
        if value is None or (value > limit if upper else value < limit):
            failed.append(f"{key} = {_fmt(value)} {'>' if upper else '<'} {limit}")
    return failed
