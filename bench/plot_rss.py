"""Plot a ``bench/load.py --serve`` server's RSS over time from its JSON (``rss.timeline``).

Each file is one run, labelled ``FILE:LABEL``. Time is in minutes from the end of the
warm-up answer (the start of the load). The top panel is the RSS with the round ends marked
and the requests completed so far (right axis); the bottom one how much each kind of
mapping (``bench._common.memory_map``) has grown since the warm-up: glibc's thread
arenas, the main malloc heap, other anonymous memory and file-backed pages.

    .venv/bin/python bench/plot_rss.py bench/results/soak-tiny.json:default \\
        --out docs/soak-rss.png
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

KINDS = {
    "arenas_mb": "thread arenas",
    "heap_mb": "main malloc heap",
    "anon_mb": "other anonymous",
    "file_mb": "file-backed",
}
STYLES = ("-", "--", ":", "-.")


def load_run(spec: str) -> tuple[str, dict[str, Any]]:
    path, _, label = spec.partition(":")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rss = data.get("rss") or {}
    if not rss.get("timeline"):
        raise SystemExit(f"{path} has no rss.timeline (run bench/load.py --serve)")
    return label or Path(path).stem, rss


def columns(rss: dict[str, Any]) -> dict[str, list[float]]:
    names = rss["timeline_columns"]
    return {name: [row[i] for row in rss["timeline"]] for i, name in enumerate(names)}


def plot(runs: Sequence[tuple[str, dict[str, Any]]], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    done_axis = top.twinx()
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, (label, rss) in enumerate(runs):
        cols = columns(rss)
        warm = next(m for m in rss["marks"] if m["event"] == "warm-up")
        start = warm["t_s"]
        minutes = [(t - start) / 60 for t in cols["t_s"]]
        colour = colours[n % len(colours)]
        top.plot(minutes, cols["rss_mb"], color=colour, lw=1.4, label=f"{label}: RSS")
        rounds = [m for m in rss["marks"] if m["event"].startswith("round ")]
        top.plot(
            [(m["t_s"] - start) / 60 for m in rounds],
            [m["rss_mb"] for m in rounds],
            "o",
            color=colour,
            ms=5,
            label=f"{label}: end of each round",
        )
        done_axis.plot(minutes, cols["requests_done"], color=colour, lw=0.8, ls=":", alpha=0.8)
        style = STYLES[n % len(STYLES)]
        for k, (key, name) in enumerate(KINDS.items()):
            bottom.plot(
                minutes,
                [mb - warm[key] for mb in cols[key]],
                color=colours[(k + 3) % len(colours)],
                ls=style,
                lw=1.2,
                label=f"{label}: {name}",
            )
    top.set_ylabel("server RSS (MB)")
    done_axis.set_ylabel("requests completed (dotted)")
    top.axvline(0, color="grey", lw=0.6)
    top.legend(loc="lower right", fontsize=8)
    top.set_title(title)
    top.grid(alpha=0.3)
    bottom.set_ylabel("growth since the warm-up (MB)")
    bottom.set_xlabel("minutes since the load began (after one warm-up answer)")
    bottom.axvline(0, color="grey", lw=0.6)
    lo, hi = bottom.get_ylim()
    bottom.set_ylim(lo, hi + 0.6 * (hi - lo))  # room for the legend above the lines
    bottom.legend(loc="upper left", fontsize=7, ncol=max(1, len(runs)))
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="FILE.json[:LABEL]")
    ap.add_argument("--out", type=Path, required=True, help="PNG to write")
    ap.add_argument("--title", default="ragqa serve (tiny model): RSS under load")
    args = ap.parse_args(argv)
    plot([load_run(spec) for spec in args.runs], args.out, args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
