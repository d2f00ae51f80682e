"""A Markdown table of several eval runs side by side (the figures EVALUATION.md quotes).

Each argument is LABEL=RUN_FOLDER; the run's ``summary-rescored.json`` is used when
present (an older run scored again with today's rules), else its ``summary.json``.

    python scripts/side_by_side.py "main, dev=docs/eval/main-dev" "now, dev=docs/eval/dev"
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [
    ("accuracy", "answer accuracy", "≥ 0.85"),
    ("exact_match", "exact match", ""),
    ("f1", "token F1", ""),
    ("refusal_correct", "refusal accuracy (traps)", "≥ 0.90"),
    ("false_refusal", "false refusals", "≤ 0.10"),
    ("hit@5", "retrieval hit@5", ""),
    ("citation_precision", "citation precision (passage)", ""),
    ("sentence_citation_precision", "citation precision (sentence)", "≥ 0.90"),
    ("mean_prompt_tokens", "prompt tokens (mean)", ""),
    ("ttft_ms_p50", "first token p50 ms", ""),
    ("total_ms_p50", "total p50 ms", ""),
    ("total_ms_p95", "total p95 ms", ""),
    ("errors", "errors", ""),
]


def load(folder: Path) -> dict[str, object]:
    for name in ("summary-rescored.json", "summary.json"):
        if (folder / name).is_file():
            data = json.loads((folder / name).read_text("utf-8"))
            overall: dict[str, object] = data["overall"]
            return overall
    raise SystemExit(f"no summary in {folder}")


def fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:,.0f}"
    return str(v)


def main() -> int:
    runs = [arg.split("=", 1) for arg in sys.argv[1:]]
    summaries = [(label, load(Path(folder))) for label, folder in runs]
    print("| metric | " + " | ".join(label for label, _ in summaries) + " | target |")
    print("| --- |" + " --- |" * (len(summaries) + 1))
    n = " | ".join(fmt(s.get("n")) for _, s in summaries)
    print(f"| questions | {n} | |")
    for key, name, target in ROWS:
        cells = " | ".join(fmt(s.get(key)) for _, s in summaries)
        print(f"| {name} | {cells} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
