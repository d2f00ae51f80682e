"""Reciprocal rank fusion of the dense and BM25 rankings (``RAGQA_RRF_K``).

With a large constant, every passage that both searches found outranks any passage only
one of them found, however high that one ranked there; with a small one, the first few
of each search come before passages that both found low down.
"""

from __future__ import annotations

import pytest

from app.retrieval.hybrid import RRF_K, rrf_scores
from app.settings import Settings

pytestmark = pytest.mark.unit

# row 1 is first for the dense search only, row 2 first for BM25 only; row 9 is eighth
# in both; rows 10-15 and 20-25 fill the places between
DENSE = [1, 10, 11, 12, 13, 14, 15, 9]
BM25 = [2, 20, 21, 22, 23, 24, 25, 9]


def order(k: int) -> list[int]:
    fused = rrf_scores([DENSE, BM25], k)
    return sorted(fused, key=lambda r: fused[r], reverse=True)


def test_a_large_constant_puts_what_both_searches_found_first() -> None:
    assert order(60)[0] == 9


def test_a_small_constant_lets_the_top_of_each_search_through() -> None:
    assert order(5)[:3] == [1, 2, 9]


def test_a_row_scores_the_sum_over_the_rankings_that_hold_it() -> None:
    fused = rrf_scores([DENSE, BM25], 60)
    assert fused[9] == pytest.approx(2 / 68)
    assert fused[1] == pytest.approx(1 / 61)
    assert set(fused) == set(DENSE) | set(BM25)


def test_ties_keep_the_order_rows_were_first_seen() -> None:
    # the same rank in each list: the dense one (seen first) stays first
    assert order(5)[:2] == [1, 2]
    assert order(60)[1:3] == [1, 2]


def test_the_setting_defaults_to_the_retrievers_constant_and_is_checked() -> None:
    assert Settings(_env_file=None).rrf_k == RRF_K  # type: ignore[call-arg]
    assert Settings(_env_file=None, rrf_k=5).rrf_k == 5  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(_env_file=None, rrf_k=0)  # type: ignore[call-arg]
