"""An on-disk cache of per-text results (answer embeddings, detected languages), for ``compare`` on files.

Embedding an answer and detecting its language depend on nothing but the text and the model that
looks at it, and loading those models is most of what a file comparison costs (torch and
sentence-transformers alone take seconds to import). So each result is kept in one SQLite file keyed
by (model id, SHA-256 of the text): comparing files whose answers were seen before (the baseline of
every comparison, the few canned introductions a model repeats) loads no model at all.

The model id is the embedder's ``model_name`` (the key the database's embedding table uses) or the
language detector's id (its version and languages). A cache that cannot be opened or written is a
warning, never an error: the results are computed again.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TextCache", "text_hash"]

_log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, hash TEXT NOT NULL, vector BLOB NOT NULL, "
    "PRIMARY KEY (model, hash)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS languages (model TEXT NOT NULL, hash TEXT NOT NULL, language TEXT, "
    "PRIMARY KEY (model, hash)) WITHOUT ROWID",
)
_CHUNK = 500  # SQLite's limit on bound parameters is 999 in old builds


def text_hash(text: str) -> str:
    """The key of a text everywhere results are cached (this file, the database's analyses)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TextCache:
    """Embeddings and languages of texts already seen, in one SQLite file (created on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._broken = False
        self._lock = threading.Lock()

    def vectors(self, model: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached float32 vector of each text that has one under ``model``."""
        rows = self._lookup("vectors", "vector", model, texts)
        return {text: np.frombuffer(blob, dtype=np.float32).copy() for text, blob in rows.items()}

    def put_vectors(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Remember each text's vector under ``model``."""
        self._store(
            "vectors",
            "vector",
            model,
            ((text, np.ascontiguousarray(vector, dtype=np.float32).tobytes()) for text, vector in vectors.items()),
        )

    def languages(self, model: str, texts: Iterable[str]) -> dict[str, str | None]:
        """The cached language of each text that has one under ``model`` (None: too little prose to tell)."""
        return self._lookup("languages", "language", model, texts)

    def put_languages(self, model: str, languages: Mapping[str, str | None]) -> None:
        """Remember each text's detected language under ``model``."""
        self._store("languages", "language", model, languages.items())

    def close(self) -> None:
        """Close the file (a later call opens it again)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- storage ------------------------------------------------------------------------------------

    def _lookup(self, table: str, column: str, model: str, texts: Iterable[str]) -> dict[str, Any]:
        by_hash = {text_hash(text): text for text in dict.fromkeys(texts)}
        if not by_hash or not self.path.is_file():
            return {}
        found: dict[str, Any] = {}
        keys = list(by_hash)
        with self._lock:
            connection = self._connect()
            if connection is None:
                return {}
            try:
                for start in range(0, len(keys), _CHUNK):
                    chunk = keys[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    query = f"SELECT hash, {column} FROM {table} WHERE model = ? AND hash IN ({marks})"
                    for digest, value in connection.execute(query, (model, *chunk)):
                        found[by_hash[digest]] = value
            except sqlite3.Error as exc:
                self._give_up(exc)
                return {}
        return found

    def _store(self, table: str, column: str, model: str, items: Iterable[tuple[str, object]]) -> None:
        rows = [(model, text_hash(text), value) for text, value in items]
        if not rows:
            return
        with self._lock:
            connection = self._connect(create=True)
            if connection is None:
                return
            try:
                with connection:
                    connection.executemany(
                        f"INSERT OR REPLACE INTO {table} (model, hash, {column}) VALUES (?, ?, ?)",
                        rows,
                    )
            except sqlite3.Error as exc:
                self._give_up(exc)

    def _connect(self, *, create: bool = False) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._connection is None:
            try:
                if create:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                for statement in _SCHEMA:
                    connection.execute(statement)
                connection.commit()
            except (OSError, sqlite3.Error) as exc:
                self._give_up(exc)
                return None
            self._connection = connection
        return self._connection

    def _give_up(self, exc: Exception) -> None:
        """Work on without the cache: results are recomputed, which is slower but still right."""
        _log.warning("the text cache %s cannot be used (%s); computing without it", self.path, exc)
        self._broken = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None

