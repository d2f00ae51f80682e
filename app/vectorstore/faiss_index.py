"""The FAISS side of the index: which index type a version gets, and one query at a time.

Below ``ann_threshold`` chunks the index is exact (``IndexFlatIP``); above it, HNSW with
the parameters measured in docs/PERFORMANCE.md (bench/retrieval_scale.py).
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # recall@10 0.977 at 1M real-like vectors, 0.3-0.5 ms (PERFORMANCE.md)


def build_faiss(embeddings: np.ndarray, dim: int, ann_threshold: int) -> Any:
    n = embeddings.shape[0]
    index: Any
    if ann_threshold and n > ann_threshold:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


def search_one(
    index: Any, query: np.ndarray, k: int, params: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """One query, on one OpenMP thread (scores, ids).

    FAISS parallelises over queries; for a single one its threads only add start-up and
    barrier waits: on 2 cores one thread is about twice as fast for exact search, and many
    times faster when another process holds a core (bench/retrieval_scale.py). The thread
    count is per calling thread in OpenMP and is restored, so index builds keep theirs.
    """
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        q = query.reshape(1, -1).astype(np.float32, copy=False)
        scores, ids = index.search(q, k) if params is None else index.search(q, k, params=params)
    finally:
        faiss.omp_set_num_threads(previous)
    return scores[0], ids[0]
