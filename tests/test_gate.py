"""The default-model CI gate: ``ragqa eval data/eval/gate.jsonl`` with the bundled default
model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) over the demo corpus must meet floors on answer
accuracy, refusal accuracy and citation precision. The 12 gate questions (8 answerable, 4
not) are in neither data/eval/questions.jsonl nor the prompt's examples, so the gate measures
questions nothing was tuned on. Slow: the model is 1.1 GB and answers on the CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow

GATE = ROOT / "data" / "eval" / "gate.jsonl"

# Measured (runs/gate, commit cec91fe with uncommitted changes, top 4; loaded machine):
# accuracy 0.375 (3 of 8), refusal accuracy 0.5 (2 of 4), citation precision 1.0. Each
# floor is one question below (8 answerable: 0.125 each; 4 traps: 0.25 each), and citation
# precision a quarter below, so a regression of two questions fails the gate.
MIN_ACCURACY = 0.25  # answer accuracy over the 8 answerable questions
MIN_REFUSAL = 0.25  # refusal accuracy over the 4 unanswerable questions
MIN_CITATION_PRECISION = 0.75  # passage-level citation precision


def test_gate_questions_are_not_in_the_eval_set() -> None:
    gate = [json.loads(line) for line in GATE.read_text("utf-8").splitlines() if line.strip()]
    assert len(gate) == 12
    eval_set = (ROOT / "data" / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
    asked = {json.loads(line)["question"].strip().lower() for line in eval_set if line.strip()}
    assert not {g["question"].strip().lower() for g in gate} & asked


def test_the_default_model_passes_the_gate(tmp_path: Path, demo_index: Path) -> None:
    shutil.copytree(demo_index, tmp_path / "index")
    # the shipped defaults (no RAGQA_* from the developer's shell; the run's cwd has no .env)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")}
    env.update(
        {
            "RAGQA_INDEX_DIR": str(tmp_path / "index"),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    out = tmp_path / "gate"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "app.cli", "eval", str(GATE), "--out", str(out)),
            *("--min-accuracy", str(MIN_ACCURACY)),
            *("--min-refusal", str(MIN_REFUSAL)),
            *("--min-citation-precision", str(MIN_CITATION_PRECISION)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=tmp_path,
    )
    summary_path = out / "summary.json"
    overall = json.loads(summary_path.read_text())["overall"] if summary_path.exists() else {}
    assert done.returncode == 0, (overall, done.stderr[-3000:])
    assert overall["n"] == 12 and overall["errors"] == 0
    assert "qwen2.5-coder-1.5b-instruct" in json.loads(summary_path.read_text())["meta"]["backend"]
