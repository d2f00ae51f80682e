"""Asking within some documents: a list of document ids and/or a glob on their source path.

A :class:`Scope` resolves against one snapshot to the chunk rows retrieval may return.
Both parts together mean the union (the ticked documents, and those whose source matches
the glob). Unknown document ids, or a glob that matches no document, are a
:class:`~app.errors.UnknownScope` (HTTP 400) naming them: an answer "from nothing"
would read as a
refusal about the whole corpus.

How the restriction stays exact is :meth:`app.vectorstore.snapshot.Snapshot.search`'s
business (dense) and :class:`app.retrieval.hybrid._BM25`'s (a weight mask over the scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np

from app.errors import BadInput, UnknownScope
from app.vectorstore.snapshot import Snapshot

MAX_SCOPE_DOCUMENTS = 1000


@dataclass(frozen=True)
class Scope:
    documents: tuple[str, ...] = ()
    source_glob: str | None = None

    @classmethod
    def of(cls, documents: Sequence[str] | None, source_glob: str | None) -> Scope | None:
        """The scope of a request, or None when it names neither."""
        if not documents and not source_glob:
            return None
        return cls(tuple(dict.fromkeys(documents or ())), source_glob or None)

    def doc_ids(self, snapshot: Snapshot) -> list[str]:
        """The documents in scope, or :class:`BadInput` naming what matches nothing."""
        if len(self.documents) > MAX_SCOPE_DOCUMENTS:
            raise BadInput(
                f"documents lists {len(self.documents)} ids; at most {MAX_SCOPE_DOCUMENTS}"
            )
        unknown = [d for d in self.documents if d not in snapshot.documents]
        if unknown:
            shown = ", ".join(repr(d[:64]) for d in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise UnknownScope(
                f"unknown document id{'s' if len(unknown) > 1 else ''} {shown}{more} in "
                "`documents`; GET /api/documents lists them"
            )
        ids = list(self.documents)
        if self.source_glob:
            matched = [
                k for k, d in snapshot.documents.items() if fnmatchcase(d.source, self.source_glob)
            ]
            if not matched:
                raise UnknownScope(
                    f"source_glob {self.source_glob[:200]!r} matches no document's source; "
                    "GET /api/documents lists the sources"
                )
            ids.extend(k for k in matched if k not in ids)
        return ids

    def rows(self, snapshot: Snapshot) -> np.ndarray:
        """The chunk rows in scope (sorted, int64): what retrieval may return."""
        rows = [r for d in self.doc_ids(snapshot) for r in snapshot.chunk_rows(d)]
        return np.array(sorted(rows), dtype=np.int64)
