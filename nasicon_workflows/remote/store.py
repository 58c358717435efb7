"""A maggma ``MongoStore`` over a local litemongo directory: the Mongo API without a server.

jobflow-remote 1.0 insists that its queue store be a ``MongoStore`` subclass; this one serves
tests and single-machine use. Real deployments point the project at a MongoDB server instead (see
``docs/hpc.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

from maggma.stores import MongoStore

from nasicon_workflows.remote.errors import require

__all__ = ["LiteMongoStore"]


class LiteMongoStore(MongoStore):
    """A maggma ``MongoStore`` backed by a ``litemongo`` directory instead of a MongoDB server.

    Every collection is one SQLite file under ``path/database/``; several processes (the runner,
    ``jf`` commands, a notebook) can open the same directory. Use it where no MongoDB server can
    run; for production use a real MongoDB (``MongoStore`` with ``host``/``uri``).

    Parameters
    ----------
    path
        Directory holding the databases (created on first connection).
    database
        Database name (a sub-directory of ``path``).
    collection_name
        Collection name (one SQLite file).
    **kwargs
        Passed to ``maggma.stores.MongoStore`` (``key``, ``last_updated_field``, ...).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        database: str = "jobflow",
        collection_name: str = "jobs",
        **kwargs,
    ):
        # host/port are MongoStore arguments that mean nothing here; drop them so that a
        # serialised store round-trips through __init__.
        kwargs.pop("host", None)
        kwargs.pop("port", None)
        self.path = str(Path(path).expanduser().absolute())
        super().__init__(database=database, collection_name=collection_name, **kwargs)

    @property
    def name(self) -> str:
        """A string naming this data source."""
        return f"litemongo://{self.path}/{self.database}/{self.collection_name}"

    def connect(self, force_reset: bool = False) -> None:
        """Open the collection (a no-op when already open, unless ``force_reset``).

        Parameters
        ----------
        force_reset
            Reopen even if a connection exists.
        """
        if self._coll is None or force_reset:
            litemongo = require("litemongo", "LiteMongoStore")
            sqlite_store = require("litemongo.sqlite_store", "LiteMongoStore")
            client = litemongo.MongoClient(sqlite_store.ServerStore(self.path))
            self._coll = client[self.database][self.collection_name]

    def close(self) -> None:
        """Close the connection; closing a store that was never opened is a no-op."""
        if self._coll is not None:
            self._coll.database.client.close()
            self._coll = None

    def __hash__(self) -> int:
        """Hash on location, database, collection and update field."""
        return hash((self.path, self.database, self.collection_name, self.last_updated_field))

    def __eq__(self, other: object) -> bool:
        """Two stores are equal when they open the same collection of the same directory."""
        if not isinstance(other, LiteMongoStore):
            return False
        fields = ["path", "database", "collection_name", "last_updated_field"]
        return all(getattr(self, f) == getattr(other, f) for f in fields)
