"""The question file: one JSON object a line (id, question, answers, evidence, type;
optionally parts and also_stated)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from app.errors import BadInput

QuestionType = Literal["factoid", "numeric", "multi_hop", "unanswerable"]


class EvalItem(BaseModel):
    id: str
    question: str = Field(min_length=1)
    answers: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    # Other sentences of the corpus that state the same answer about the same subject
    # (another article saying it in its own words): a citation quoting one of them is
    # precise. Retrieval hit and recall, and citation recall, read ``evidence`` only.
    also_stated: list[str] = Field(default_factory=list)
    type: QuestionType
    # A multi-part question ("who…, and when…?") lists each part's accepted answers; the
    # answer is right only when every part is in it.
    parts: list[list[str]] = Field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_questions(path: Path) -> list[EvalItem]:
    """Parse the file; every malformed line is reported with its number."""
    if not path.is_file():
        raise BadInput(f"no such question file: {path}")
    items: list[EvalItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not valid JSON ({exc.msg})")
            continue
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "object"
            problems.append(f"line {n}: {where}: {first['msg']}")
            continue
        if item.id in seen:
            problems.append(f"line {n}: duplicate id {item.id!r}")
        elif item.answerable and not item.answers:
            problems.append(f"line {n}: {item.type} question {item.id!r} has no answers")
        elif not item.answerable and (item.answers or item.evidence or item.also_stated):
            problems.append(f"line {n}: unanswerable question {item.id!r} must have no answers")
        seen.add(item.id)
        items.append(item)
    if problems:
        raise BadInput(f"{path}: {len(problems)} malformed line(s):\n  " + "\n  ".join(problems))
    if not items:
        raise BadInput(f"{path}: no questions found")
    return items
