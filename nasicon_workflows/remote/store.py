"""A maggma ``MongoStore`` over a local litemongo directory: the Mongo API without a server.

jobflow-remote 1.0 insists that its queue store be a ``MongoStore`` subclass; this one serves
tests and single-machine use. Real deployments point the project at a MongoDB server instead (see
``docs/hpc.md``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from maggma.stores import MongoStore

from nasicon_workflows.remote.errors import require

__all__ = ["LiteMongoStore", "private_connections"]

#: One litemongo client per directory, process and thread, shared by every LiteMongoStore of
#: that directory. jobflow-remote's runner builds a new job store object (and connects it) for
#: every step of every job; with a client of its own each would open new SQLite connections and
#: rebuild litemongo's in-process query indexes by decoding every document of the collection, so
#: the cost of a step would grow with the number of outputs stored. SQLite connections belong to
#: the thread that opened them, and a forked process must not use its parent's.
_CLIENTS: dict[tuple[int, int, str], Any] = {}


_PRIVATE = threading.local()


def _new_client(path: str):
    litemongo = require("litemongo", "LiteMongoStore")
    sqlite_store = require("litemongo.sqlite_store", "LiteMongoStore")
    return litemongo.MongoClient(sqlite_store.ServerStore(path))


def _shared_client(path: str):
    private = getattr(_PRIVATE, "clients", None)
    if private is not None:
        client = _new_client(path)
        private.append(client)
        return client
    key = (os.getpid(), threading.get_ident(), path)
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = _new_client(path)
    return client


@contextlib.contextmanager
def private_connections() -> Iterator[None]:
    """Stores connected in this block (this thread) get connections of their own, closed at the
    end, instead of the shared ones.

    For operations that leave a connection in a state no other store should inherit: litemongo
    0.2's ``drop_indexes()`` (run by jobflow-remote's queue reset) replaces the collection's
    on-disk index table by an in-memory dict for the rest of that connection's life.
    """
    _PRIVATE.clients = clients = []
    try:
        yield
    finally:
        del _PRIVATE.clients
        for client in clients:
            client.close()


@atexit.register
def _close_clients() -> None:
    pid = os.getpid()
    for key in [k for k in _CLIENTS if k[0] == pid]:
        _CLIENTS.pop(key).close()


class LiteMongoStore(MongoStore):
    """A maggma ``MongoStore`` backed by a ``litemongo`` directory instead of a MongoDB server.

    Every collection is one SQLite file under ``path/database/``; several processes (the runner,
    ``jf`` commands, a notebook) can open the same directory. Within a process (and thread) the
    stores of one directory share one connection and its query indexes, which are kept up to date
    by their own writes and rebuilt only after another process wrote. Use it where no MongoDB
    server can run; for production use a real MongoDB (``MongoStore`` with ``host``/``uri``).

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
            self._coll = _shared_client(self.path)[self.database][self.collection_name]

    def close(self) -> None:
        """Let go of the collection; closing a store that was never opened is a no-op. The shared
        connection stays open for the other stores of the directory until the process ends."""
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
