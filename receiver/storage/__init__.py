"""Storage backends behind one interface (``receiver.storage.base.Storage``).

``open_storage`` picks the backend from the ``--db`` value: a file path means
SQLite.  A PostgreSQL backend (psycopg 3) would be selected here by a
``postgresql://`` URL without any change to the routes.
"""

from __future__ import annotations

from receiver.storage.base import (
    SORT_FIELDS,
    ServerPage,
    ServerQuery,
    Storage,
    WriteResult,
)


def open_storage(target: str, **options: float) -> Storage:
    """Open (creating if needed) the store named by ``--db``; raises StorageError.

    ``options``: the backend's tuning (SQLite: ``checkpoint_interval``, ``sync_interval``).
    """
    from receiver.errors import StorageError
    from receiver.storage.sqlite import SQLiteStorage

    if target.startswith(("postgres://", "postgresql://")):
        raise StorageError("PostgreSQL storage is not available yet; use a SQLite file path")
    return SQLiteStorage(target, **options)


__all__ = [
    "SORT_FIELDS",
    "ServerPage",
    "ServerQuery",
    "Storage",
    "WriteResult",
    "open_storage",
]
