"""Check the held-out sets (heldout, heldout2, heldout3, heldout4), the development sets dev2, dev3, dev4,
dev5, dev6, dev7, dev8, dev9 and dev10 and the CI gate set against their articles.

    .venv/bin/python scripts/check_questions.py            # all fourteen sets
    .venv/bin/python scripts/check_questions.py data/heldout/questions.jsonl data/heldout/articles

For every question file it checks that
  * every line validates with ragqa's own ``app.evaluation.dataset.load_questions``;
  * ids are unique and follow the set's pattern (h001..., g001..., k001..., d001..., e001...,
    m001..., n001..., p001..., r001..., s001..., t001..., u001..., v001..., g01...),
    questions are not repeated;
  * every evidence string, and every ``also_stated`` one (another sentence of the articles that
    states the same answer: a citation quoting it is precise), is an exact substring of some
    article's text *as ragqa loads it* (``app.ingest.loaders.load_file``: raw text for .txt/.md,
    extracted text for .html/.pdf), and ``also_stated`` sentences hold one of the answers;
  * the optional ``parts`` field is a list of non-empty lists of non-empty strings, used only on
    answerable questions, with every alternative of the first part also listed in ``answers``;
  * unanswerable questions carry no answers, evidence or parts.
For the gate set it also checks that no question repeats one of data/eval/questions.jsonl.
For the held-out sets and dev2 to dev10 it checks the sha256
sums recorded in their README.md, so an edit to a frozen held-out file, or an unrecorded edit to
dev2 to dev10, is caught.

It reports (without failing) answerable questions none of whose answer alternatives occurs in
its evidence after SQuAD normalisation: those are the computed answers, listed for review.
Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.errors import BadInput  # noqa: E402
from app.evaluation.dataset import load_questions  # noqa: E402
from app.evaluation.metrics import contains, normalize  # noqa: E402
from app.ingest.loaders import discover, load_file  # noqa: E402

HELDOUT = (ROOT / "data/heldout/questions.jsonl", ROOT / "data/heldout/articles", r"h\d{3}")
HELDOUT2 = (ROOT / "data/heldout2/questions.jsonl", ROOT / "data/heldout2/articles", r"g\d{3}")
HELDOUT3 = (ROOT / "data/heldout3/questions.jsonl", ROOT / "data/heldout3/articles", r"k\d{3}")
HELDOUT4 = (ROOT / "data/heldout4/questions.jsonl", ROOT / "data/heldout4/articles", r"v\d{3}")
DEV2 = (ROOT / "data/dev2/questions.jsonl", ROOT / "data/dev2/articles", r"d\d{3}")
DEV3 = (ROOT / "data/dev3/questions.jsonl", ROOT / "data/dev3/articles", r"e\d{3}")
DEV4 = (ROOT / "data/dev4/questions.jsonl", ROOT / "data/dev4/articles", r"m\d{3}")
DEV5 = (ROOT / "data/dev5/questions.jsonl", ROOT / "data/dev5/articles", r"n\d{3}")
DEV6 = (ROOT / "data/dev6/questions.jsonl", ROOT / "data/dev6/articles", r"p\d{3}")
DEV7 = (ROOT / "data/dev7/questions.jsonl", ROOT / "data/dev7/articles", r"r\d{3}")
DEV8 = (ROOT / "data/dev8/questions.jsonl", ROOT / "data/dev8/articles", r"s\d{3}")
DEV9 = (ROOT / "data/dev9/questions.jsonl", ROOT / "data/dev9/articles", r"t\d{3}")
DEV10 = (ROOT / "data/dev10/questions.jsonl", ROOT / "data/dev10/articles", r"u\d{3}")
# every registered set but the gate: each is checked, and its README's sha256 sums too
HELD_OUT = (HELDOUT, HELDOUT2, HELDOUT3, HELDOUT4)
SETS = (*HELD_OUT, DEV2, DEV3, DEV4, DEV5, DEV6, DEV7, DEV8, DEV9, DEV10)
GATE = (ROOT / "data/eval/gate.jsonl", ROOT / "data/articles", r"g\d{2}")
DEV = ROOT / "data/eval/questions.jsonl"


def _contains(text: str, golds: list[str]) -> bool:
    t = f" {normalize(text)} "
    return any(normalize(g) and f" {normalize(g)} " in t for g in golds)


def check(questions: Path, articles: Path, id_pattern: str | None) -> list[str]:
    problems: list[str] = []
    where = questions.relative_to(ROOT) if questions.is_relative_to(ROOT) else questions
    try:
        load_questions(questions)
    except BadInput as exc:
        problems.append(f"load_questions rejects it: {exc}")
    docs = {p.name: load_file(p).text for p in discover([articles])}
    if not docs:
        return [f"{where}: no articles under {articles}"]
    seen_ids: set[str] = set()
    seen_q: set[str] = set()
    counts: dict[str, int] = {}
    computed: list[str] = []
    for n, line in enumerate(questions.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc.msg})")
            continue
        qid = q.get("id", f"line {n}")
        if id_pattern and not re.fullmatch(id_pattern, str(qid)):
            problems.append(f"{qid}: id does not match {id_pattern}")
        if qid in seen_ids:
            problems.append(f"{qid}: duplicate id")
        seen_ids.add(qid)
        key = normalize(q.get("question", ""))
        if key in seen_q:
            problems.append(f"{qid}: question repeated")
        seen_q.add(key)
        kind = q.get("type")
        counts[kind] = counts.get(kind, 0) + 1
        answers, evidence, parts = q.get("answers", []), q.get("evidence", []), q.get("parts")
        also = q.get("also_stated", [])
        allowed = {"id", "question", "answers", "evidence", "type", "parts", "also_stated"}
        if set(q) - allowed:
            problems.append(f"{qid}: unknown fields {sorted(set(q) - allowed)}")
        if kind == "unanswerable":
            if answers or evidence or parts or also:
                problems.append(f"{qid}: unanswerable but has answers, evidence or parts")
            continue
        if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
            problems.append(f"{qid}: answers must be a non-empty list of non-empty strings")
        if not evidence:
            problems.append(f"{qid}: answerable question without evidence")
        for e in [*evidence, *also]:
            if not any(contains(text, e) for text in docs.values()):
                problems.append(f"{qid}: evidence not found verbatim in any article: {e[:80]!r}")
        if also and not _contains(" ".join(also), answers):
            problems.append(f"{qid}: also_stated sentences must state one of the answers")
        if parts is not None:
            ok = (
                isinstance(parts, list)
                and len(parts) >= 2
                and all(
                    isinstance(p, list) and p and all(isinstance(a, str) and a.strip() for a in p)
                    for p in parts
                )
            )
            if not ok:
                problems.append(f"{qid}: parts must be 2+ non-empty lists of non-empty strings")
            elif not set(parts[0]) <= set(answers):
                problems.append(f"{qid}: the first part's alternatives must also be in answers")
        if evidence and not _contains(" ".join(evidence), answers):
            computed.append(qid)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"{where}: {sum(counts.values())} questions ({summary}); {len(docs)} articles")
    if computed:
        print(
            f"  answers not spelled out in the evidence (computed; review): {', '.join(computed)}"
        )
    return [f"{where}: {p}" for p in problems]


def check_not_in_dev(gate: Path) -> list[str]:
    def rows(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    dev = {normalize(q["question"]) for q in rows(DEV)}
    return [
        f"{gate.name}: {q['id']} repeats a development question"
        for q in rows(gate)
        if normalize(q["question"]) in dev
    ]


def check_frozen(questions: Path = HELDOUT[0], articles: Path = HELDOUT[1]) -> list[str]:
    """The sha256 sums recorded in the README.md next to ``questions``."""
    readme = questions.parent / "README.md"
    if not readme.exists():
        return [f"{readme.relative_to(ROOT)} is missing"]
    where = readme.relative_to(ROOT)
    problems = []
    sums = re.findall(r"^([0-9a-f]{64})\s+(\S+)$", readme.read_text(), re.MULTILINE)
    if not sums:
        problems.append(f"{where} records no sha256 sums")
    for digest, rel in sums:
        path = readme.parent / rel
        if not path.exists():
            problems.append(f"{where} lists {rel}, which does not exist")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(
                f"{rel} has changed since its sha256 was recorded (differs from {where})"
            )
    listed = {rel for _, rel in sums}
    for p in [questions, *sorted(articles.iterdir())]:
        if str(p.relative_to(readme.parent)) not in listed:
            problems.append(f"{where} records no sha256 for {p.relative_to(readme.parent)}")
    return problems


def main(argv: list[str]) -> int:
    if argv:
        if len(argv) != 2:
            print(__doc__)
            return 2
        problems = check(Path(argv[0]).resolve(), Path(argv[1]).resolve(), None)
    else:
        problems = [p for s in SETS for p in check(*s)]
        problems += check(*GATE) + check_not_in_dev(GATE[0])
        problems += [p for s in SETS for p in check_frozen(*s[:2])]
    for p in problems:
        print("FAIL", p)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
