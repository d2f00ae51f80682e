"""What the probe scripts share (``scripts/probe_*.py``): their command line, a finished
eval run with its questions, the service with the index open and the model loaded, and
where their records go."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def probe_args(
    run: str = "an eval run folder (results.jsonl with model_text)",
) -> argparse.Namespace:
    """``RUN QUESTIONS --index INDEX --out OUT``; ``run`` says what the run must hold."""
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path, help=run)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    return ap.parse_args()


def model_service(index: Path) -> Any:
    """A :class:`app.answer.service.RagService` over ``index``, its model loaded once."""
    from app.answer.service import RagService
    from app.llm import load_llm
    from app.settings import Settings

    settings = Settings(index_dir=index)
    service = RagService(settings)
    service.open_index()
    service.llm = load_llm(settings)
    return service


def write_records(path: Path, records: list[dict[str, Any]]) -> None:
    """The probe's records, as one JSON list at ``path`` (its folder made if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", "utf-8")
