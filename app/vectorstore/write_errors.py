"""What a failed write means, in words a user can act on: a full disk, a file size
limit, or a folder that cannot be written. Used by index writes and by stored uploads."""

from __future__ import annotations

import errno
import sqlite3

from app.errors import IndexWriteFailed, StorageFull

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_SQLITE_FULL = 13


def storage_error(exc: BaseException, what: str, needed_bytes: int = 0) -> IndexWriteFailed:
    """A clear error for a failed write: :class:`StorageFull` when the disk (or the file
    size limit) ran out, :class:`IndexWriteFailed` otherwise."""
    full = (
        (isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS)
        or (isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", 0) == _SQLITE_FULL)
        or any(s in str(exc) for s in ("No space left", "File too large", "Disk quota"))
    )
    reason = str(exc) or type(exc).__name__
    need = f" (it needs about {needed_bytes / 1e6:.1f} MB)" if needed_bytes else ""
    if (isinstance(exc, OSError) and exc.errno == errno.EFBIG) or "File too large" in reason:
        return StorageFull(
            f"{what}: a file grew past this process's file size limit ({reason}). Raise "
            f"the limit (ulimit -f){need} and try again; the previous index is intact and "
            "still served"
        )
    if full:
        return StorageFull(
            f"{what}: the disk is full ({reason}). Free disk space{need} and try again; "
            "the previous index is intact and still served"
        )
    return IndexWriteFailed(
        f"{what} ({reason}). Check the folder exists and is writable, then try again; "
        "the previous index is intact and still served"
    )
