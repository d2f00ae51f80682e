"""Sanity checks for the evaluation question set in data/eval/questions.jsonl."""

import json
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit  # fast: no model, no server

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_PATH = REPO_ROOT / "data" / "eval" / "questions.jsonl"
ARTICLES_DIR = REPO_ROOT / "data" / "articles"

ALLOWED_TYPES = {"factoid", "numeric", "multi_hop", "unanswerable"}
REQUIRED_KEYS = {
    "id": str,
    "question": str,
    "answers": list,
    "evidence": list,
    "type": str,
}


def _load_items():
    items = []
    with QUESTIONS_PATH.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                items.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                pytest.fail(f"line {lineno} is not valid JSON: {exc}")
    return items


@pytest.fixture(scope="module")
def items():
    return _load_items()


@pytest.fixture(scope="module")
def corpus_text():
    paths = sorted(ARTICLES_DIR.glob("*.md"))
    assert paths, f"no articles found in {ARTICLES_DIR}"
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def test_file_exists():
    assert QUESTIONS_PATH.is_file(), f"missing {QUESTIONS_PATH}"


def test_every_line_parses_to_object(items):
    assert items, "question file is empty"
    for lineno, item in items:
        assert isinstance(item, dict), f"line {lineno} is not a JSON object"


def test_required_keys_and_types(items):
    for lineno, item in items:
        for key, typ in REQUIRED_KEYS.items():
            assert key in item, f"line {lineno}: missing key {key!r}"
            assert isinstance(item[key], typ), (
                f"line {lineno}: key {key!r} should be {typ.__name__}"
            )
        assert item["question"].strip(), f"line {lineno}: empty question"
        for ans in item["answers"]:
            assert isinstance(ans, str) and ans.strip(), f"line {lineno}: bad answer {ans!r}"
        for ev in item["evidence"]:
            assert isinstance(ev, str) and ev.strip(), f"line {lineno}: bad evidence {ev!r}"


def test_ids_unique(items):
    counts = Counter(item["id"] for _, item in items)
    dupes = [i for i, c in counts.items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_types_allowed(items):
    for lineno, item in items:
        assert item["type"] in ALLOWED_TYPES, f"line {lineno}: bad type {item['type']!r}"


def test_unanswerable_have_no_answers_or_evidence(items):
    for lineno, item in items:
        if item["type"] == "unanswerable":
            assert item["answers"] == [], f"line {lineno}: unanswerable item has answers"
            assert item["evidence"] == [], f"line {lineno}: unanswerable item has evidence"


def test_answerable_have_answers_and_evidence(items):
    for lineno, item in items:
        if item["type"] != "unanswerable":
            assert item["answers"], f"line {lineno}: answerable item has no answers"
            assert item["evidence"], f"line {lineno}: answerable item has no evidence"


def test_multi_hop_cite_several_passages(items):
    for lineno, item in items:
        if item["type"] == "multi_hop":
            assert len(item["evidence"]) >= 2, f"line {lineno}: multi_hop needs >= 2 passages"


def test_evidence_is_verbatim_in_corpus(items, corpus_text):
    missing = [
        (item["id"], ev) for _, item in items for ev in item["evidence"] if ev not in corpus_text
    ]
    assert not missing, f"evidence not found verbatim in articles: {missing}"


def test_counts(items):
    types = Counter(item["type"] for _, item in items)
    assert len(items) >= 60, f"only {len(items)} questions"
    assert types["unanswerable"] >= 10, f"only {types['unanswerable']} unanswerable"
    assert types["multi_hop"] >= 8, f"only {types['multi_hop']} multi_hop"


def test_also_stated_sentences_are_verbatim_and_state_an_answer(items, corpus_text):
    # another article's sentence stating the same answer: citing it is precise
    for _, item in items:
        for sentence in item.get("also_stated", []):
            assert item["type"] != "unanswerable", item["id"]
            assert sentence in corpus_text, (item["id"], sentence)
            assert any(a.lower() in sentence.lower() for a in item["answers"]), item["id"]
