"""Every published figure is traceable: ``ragqa eval`` and the benchmarks record the commit,
the dirty flag, the date and the machine, and the numbers README.md quotes are the numbers
in the files it quotes them from."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.evaluation import report
from app.provenance import machine, provenance
from tests.support import ROOT

pytestmark = pytest.mark.unit

PROVENANCE_KEYS = {"commit", "dirty", "date", "cpu", "logical_cpus", "physical_cores"}


def test_provenance_names_this_checkout_and_the_machine() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    info = machine()
    assert set(info) >= PROVENANCE_KEYS
    assert info["commit"] == head and isinstance(info["dirty"], bool)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}", info["date"])
    assert info["cpu"] and info["logical_cpus"] >= 1 and info["physical_cores"] >= 1
    assert provenance()["commit"] == head


def test_an_eval_run_records_its_provenance(tmp_path: Path) -> None:
    """What `ragqa eval` passes to write_run; write_run keeps it in summary.json and report.md."""
    import inspect

    from app import cli

    source = inspect.getsource(cli._run_eval)  # what `ragqa eval` runs
    # taken before the run: a checkout that moves during a long run must not relabel it
    assert "measured_on = machine()" in source and "**measured_on" in source
    assert source.index("measured_on = machine()") < source.index("run_saving(")
    rows: list[dict[str, Any]] = []
    summary = {"overall": {"n": 0}, "by_type": {}}
    report.write_run(tmp_path, rows, summary, {**machine(), "backend": "test"})
    meta = json.loads((tmp_path / "summary.json").read_text())["meta"]
    assert set(meta) >= PROVENANCE_KEYS
    assert f"commit {meta['commit']}" in (tmp_path / "report.md").read_text()


ARTEFACTS = sorted(
    str(p.relative_to(ROOT))
    for p in [*ROOT.glob("docs/eval/*/summary.json"), *ROOT.glob("bench/results/*.json")]
)


def _keys(data: Any) -> set[str]:
    """Every key at any depth (the benchmarks nest it under ``machine``)."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


@pytest.mark.parametrize("path", ARTEFACTS)
def test_every_published_artefact_records_its_provenance(path: str) -> None:
    """No exceptions: an artefact measured before provenance was recorded is measured
    again or removed, with the figures the docs quoted from it."""
    missing = PROVENANCE_KEYS - _keys(json.loads((ROOT / path).read_text()))
    assert not missing, f"{path} lacks {missing}"


# --- the numbers README.md quotes -------------------------------------------------------
# (summary file, where the value is in it, how README writes it): add a row for each new
# quote. A key "a.b" is summary["a"]["b"]; "answerable" is n minus the unanswerable.
SIDE = "bench/results/compare-dev-s38-main.json"  # main and today's code, one run, quiet
NOW = "docs/eval/dev-s36/summary.json"  # today's code in compare-dev-s36-main
HELDOUT = "docs/eval/heldout-s37/summary.json"  # a full run of today's code and ingest
HELDOUT3 = "docs/eval/heldout3-first/summary.json"
DEV4 = "docs/eval/dev4-s32/summary.json"  # dev4-s29 (a full run), today's checks
HELDOUT3_NOW = "docs/eval/heldout3-s36/summary.json"  # compare-heldout3-s36-main
HELDOUT4 = "docs/eval/heldout4-first/summary.json"
HELDOUT4_NOW = "docs/eval/heldout4-s37/summary.json"  # today's ingest, a full run
DEV5 = "docs/eval/dev5-first/summary.json"
DEV5_NOW = "docs/eval/dev5-s36/summary.json"
DEV6_START = "docs/eval/dev6-start/summary.json"  # dev6-first, the checks of 1d9a1a8
DEV6_NOW = "docs/eval/dev6-s36/summary.json"
DEV7 = "docs/eval/dev7-first/summary.json"
DEV7_NOW = "docs/eval/dev7-s36/summary.json"
DEV8 = "docs/eval/dev8-first/summary.json"
DEV8_NOW = "docs/eval/dev8-s35/summary.json"
DEV9 = "docs/eval/dev9-first/summary.json"
DEV9_NOW = "docs/eval/dev9-s36/summary.json"
DEV10 = "docs/eval/dev10-first/summary.json"
DEV10_NOW = "docs/eval/dev10-s36/summary.json"
DEV_NOW = "docs/eval/dev-now/summary.json"
PEER = "docs/eval/peer-llamaindex/summary.json"
FRESH = "bench/results/fresh-setup.json"  # the README's first command, fresh clone, cold caches


def _minutes(v: float) -> str:
    return f"{int(v // 60)} min {v % 60:.0f} s"


Fmt = Callable[[float], str]
README_QUOTES: list[tuple[str, str, Fmt]] = [
    (NOW, "overall.n", lambda v: f"holds {v:.0f} questions"),
    (NOW, "answerable", lambda v: f"over the {v:.0f} answerable"),
    (NOW, "by_type.unanswerable.n", lambda v: f"over the {v:.0f} unanswerable"),
    (NOW, "overall.accuracy", lambda v: f"answer accuracy {v:.3f} and hit@5"),
    (NOW, "overall.refusal_correct", lambda v: f"refusal accuracy {v:.3f} over the 16"),
    (NOW, "overall.hit@5", lambda v: f"hit@5 {v:.3f}"),
    (HELDOUT, "overall.n", lambda v: f"holds {v:.0f} questions over six"),
    (HELDOUT, "overall.accuracy", lambda v: f"answer accuracy {v:.3f} and refusal"),
    (HELDOUT, "overall.refusal_correct", lambda v: f"refusal accuracy {v:.3f} there"),
    (HELDOUT3, "overall.n", lambda v: f"holds {v:.0f} questions over three long essays"),
    (HELDOUT3, "overall.accuracy", lambda v: f"answer accuracy {v:.3f} and refusal accuracy 0.520"),
    (HELDOUT3, "overall.refusal_correct", lambda v: f"refusal accuracy {v:.3f} on its first run"),
    (HELDOUT3_NOW, "overall.accuracy", lambda v: f"({v:.3f} and"),
    (HELDOUT3_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} with today's checks)"),
    (HELDOUT4, "overall.n", lambda v: f"holds {v:.0f} questions over three more essays"),
    (HELDOUT4, "overall.accuracy", lambda v: f"answer accuracy {v:.3f}, refusal accuracy"),
    (HELDOUT4, "overall.refusal_correct", lambda v: f"refusal accuracy {v:.3f} and false"),
    (HELDOUT4, "overall.false_refusal", lambda v: f"false refusals {v:.3f} on its first run"),
    # "the same with today's ingest": today's run must give the first run's figures
    (HELDOUT4_NOW, "overall.accuracy", lambda v: f"answer accuracy {v:.3f}, refusal accuracy"),
    (HELDOUT4_NOW, "overall.refusal_correct", lambda v: f"refusal accuracy {v:.3f} and false"),
    (HELDOUT4_NOW, "overall.false_refusal", lambda v: f"false refusals {v:.3f} on its first run"),
    (DEV5, "overall.accuracy", lambda v: f"dev5 scored {v:.3f} and"),
    (DEV5, "overall.refusal_correct", lambda v: f"and {v:.3f} on its first run"),
    (DEV5_NOW, "overall.accuracy", lambda v: f"{v:.3f} and"),
    (DEV5_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} after tuning on it"),
    (DEV6_START, "overall.accuracy", lambda v: f"scored {v:.3f} and"),
    (DEV6_START, "overall.refusal_correct", lambda v: f"and {v:.3f} with the checks"),
    (DEV6_NOW, "overall.accuracy", lambda v: f"and {v:.3f} and"),
    (DEV6_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} after tuning on it;"),
    (DEV7, "overall.accuracy", lambda v: f"`data/dev7/` scored {v:.3f}"),
    (DEV7, "overall.refusal_correct", lambda v: f"and {v:.3f} on its first run and"),
    (DEV7_NOW, "overall.accuracy", lambda v: f"run and {v:.3f} and"),
    (DEV7_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} after tuning on it;"),
    (DEV8, "overall.accuracy", lambda v: f"`data/dev8/` scored {v:.3f} and"),
    (DEV8, "overall.refusal_correct", lambda v: f"and {v:.3f} on its first run and"),
    (DEV8_NOW, "overall.accuracy", lambda v: f"run and {v:.3f} and"),
    (DEV8_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} after tuning on it;"),
    (DEV9, "overall.accuracy", lambda v: f"`data/dev9/` scored {v:.3f} and"),
    (DEV9, "overall.refusal_correct", lambda v: f"and {v:.3f} on its first run and"),
    (DEV9_NOW, "overall.accuracy", lambda v: f"run and {v:.3f} and"),
    (DEV9_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} after tuning on it;"),
    (DEV10, "overall.accuracy", lambda v: f"newest, scored {v:.3f} and"),
    (DEV10, "overall.refusal_correct", lambda v: f"and {v:.3f} on its first run and"),
    (DEV10_NOW, "overall.accuracy", lambda v: f"run and {v:.3f} and"),
    (DEV10_NOW, "overall.refusal_correct", lambda v: f"and {v:.3f} after tuning on it."),
    (DEV4, "overall.accuracy", lambda v: f"same form ({v:.3f} and"),
    (DEV4, "overall.refusal_correct", lambda v: f"and {v:.3f} there)"),
    (SIDE, "summary.new.mean_prompt_tokens", lambda v: f"{v:,.0f} prompt tokens (mean)"),
    (SIDE, "summary.new.ttft_ms_p50", lambda v: f"token after {v / 1000:.1f} s and"),
    (SIDE, "summary.new.total_ms_p50", lambda v: f"{v / 1000:.1f} s a question (median)"),
    (SIDE, "summary.main.ttft_ms_p50", lambda v: f"against {v / 1000:.1f} s and"),
    (SIDE, "summary.main.total_ms_p50", lambda v: f"and {v / 1000:.1f} s for main"),
    (FRESH, "ready_s", lambda v: f"serving after {_minutes(v)}"),
    (FRESH, "compile_s", lambda v: f"took {_minutes(v)}, once"),
    (FRESH, "second_ready_s", lambda v: f"ready in {v:.1f} s"),
    (DEV_NOW, "overall.retrieval_ms_p50", lambda v: f"p50 {v:.0f} ms, p95"),
    (PEER, "overall.accuracy", lambda v: f"scores {v:.3f} and"),
    (PEER, "overall.refusal_correct", lambda v: f"and {v:.3f} from"),
    (PEER, "overall.mean_prompt_tokens", lambda v: f"from {v:,.0f} tokens"),
    (PEER, "overall.total_ms_p50", lambda v: f"in {v / 1000:.1f} s"),
]


def _value(summary: dict[str, Any], key: str) -> float:
    if key == "answerable":
        return float(summary["overall"]["n"] - summary["by_type"]["unanswerable"]["n"])
    value: Any = summary
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return float(value)


@pytest.mark.parametrize(
    ("path", "key", "fmt"),
    README_QUOTES,
    ids=[f"{p.split('/')[2]}-{k}" for p, k, _ in README_QUOTES],
)
def test_readme_quotes_the_numbers_in_the_summary(path: str, key: str, fmt: Fmt) -> None:
    readme = " ".join((ROOT / "README.md").read_text("utf-8").split())
    quote = fmt(_value(json.loads((ROOT / path).read_text()), key))
    assert quote in readme, f"README.md should quote {quote!r} ({path}: {key})"


# (document, artefact, where the value is in it, how the document writes it): figures the
# docs quote from the benchmarks, checked the same way
DOC_QUOTES: list[tuple[str, str, str, Fmt]] = [
    (
        "docs/PERFORMANCE.md",
        "bench/results/overhead.json",
        "summary.ratio_total",
        lambda v: f"ratio {v:.3f} over all six",
    ),
    (
        "docs/PERFORMANCE.md",
        "bench/results/overhead.json",
        "summary.ttft_gap_median_ms",
        lambda v: f"median gap +{v:.0f} ms",
    ),
    (
        "docs/PERFORMANCE.md",
        "bench/results/ingest-subset.json",
        "chunks_per_s",
        lambda v: f"rate ({v:.1f} against",
    ),
    (
        "docs/PERFORMANCE.md",
        "bench/results/ingest.json",
        "chunks_per_s",
        lambda v: f"Throughput: {v:.1f} chunks/s",
    ),
    (
        "docs/RELIABILITY.md",
        "bench/results/load-tiny-32x120.json",
        "rss.peak_mb",
        lambda v: f"(peak {v:.0f} MB)",
    ),
    (
        "docs/SCALING.md",
        "bench/results/scaling-tiny.json",
        "summary.0.answers_per_min",
        lambda v: f"| in-process | 16 | 0 | 102.9 | {v:.2f} |",
    ),
    (
        "docs/SCALING.md",
        "bench/results/scaling-default.json",
        "summary.1.answers_per_min",
        lambda v: f"| remote x1 | 6 | 0 | 54.0 | {v:.2f} |",
    ),
    (
        "docs/EVALUATION.md",
        "docs/eval/dev-now/summary.json",
        "overall.accuracy",
        lambda v: f"| answer accuracy (answerable) | **{v:.3f}** |",
    ),
    (
        "docs/EVALUATION.md",
        "docs/eval/heldout-now/summary.json",
        "overall.refusal_correct",
        lambda v: f"0.636 → {v:.3f} |",
    ),
    (
        "docs/EVALUATION.md",
        "docs/eval/heldout3-first/summary.json",
        "overall.accuracy",
        lambda v: f"| answer accuracy | **{v:.3f}** | 0.682 |",
    ),
    (
        "docs/EVALUATION.md",
        "docs/eval/heldout3-first/summary.json",
        "overall.refusal_correct",
        lambda v: f"| refusal accuracy (traps) | **{v:.3f}** | 0.080 |",
    ),
    (
        "docs/EVALUATION.md",
        "docs/eval/heldout2-first/summary.json",
        "overall.accuracy",
        lambda v: f"answer accuracy **{v:.3f}**, refusal",
    ),
    (
        "docs/EVALUATION.md",
        "bench/results/sweep-min-score.json",
        "best_score.off_topic.max",
        lambda v: f"to {v:.3f}, all below",
    ),
]


@pytest.mark.parametrize(
    ("doc", "path", "key", "fmt"),
    DOC_QUOTES,
    ids=[f"{d.split('/')[1]}-{p.split('/')[-1]}-{k}" for d, p, k, _ in DOC_QUOTES],
)
def test_docs_quote_the_numbers_in_their_artefacts(doc: str, path: str, key: str, fmt: Fmt) -> None:
    text = " ".join((ROOT / doc).read_text("utf-8").split())
    quote = fmt(_value(json.loads((ROOT / path).read_text()), key))
    assert quote in text, f"{doc} should quote {quote!r} ({path}: {key})"
