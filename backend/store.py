"""The on-disk result store.

Each stage's result lives under the key ``<stage>/v<version>/<sha256 of its inputs>``.
The inputs are exactly the specs the stage reads, hashed as canonical JSON (see
:mod:`backend.specs`). An entry records the schema version, its stage, code version,
inputs, the data fingerprint and when it was made; :meth:`Store.get` serves an entry
only when all of them match, so nothing stale is ever returned.

The store is a plain :class:`diskcache.Cache` (SQLite in WAL mode: safe across threads
and processes). A write is one SQLite transaction, so a process killed mid-way leaves
either the whole entry or none. Eviction is off: large results are never dropped behind
the user's back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from backend.settings import cache_dir
from backend.specs import canonical_json, spec_hash

__all__ = ["SCHEMA_VERSION", "Entry", "Store", "open_store"]

SCHEMA_VERSION = 1  # bump when the layout of an entry changes


@dataclass(frozen=True)
class Entry:
    """One stored result and what produced it."""

    stage: str
    version: int
    inputs: dict
    fingerprint: str
    created: float
    payload: Any


class Store:
    """Results keyed by stage, code version and a hash of the stage's inputs.

    Args:
        directory: the cache folder; defaults to :func:`backend.settings.cache_dir`.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(
            str(self.directory), size_limit=2**62, eviction_policy="none"
        )

    # -- keys -----------------------------------------------------------------------

    @staticmethod
    def key(stage: str, version: int, inputs: Any) -> str:
        return f"{stage}/v{version}/{spec_hash(inputs)}"

    # -- results --------------------------------------------------------------------

    def get(
        self, stage: str, version: int, inputs: Any, *, fingerprint: str | None = None
    ) -> Entry | None:
        """The stored entry, or None if absent or if anything about it differs."""
        record = self._cache.get(self.key(stage, version, inputs))
        if not isinstance(record, dict) or record.get("schema") != SCHEMA_VERSION:
            return None
        # The key is a hash: check the stored inputs too, so a collision or a changed
        # canonical form can never serve another stage's result.
        if canonical_json(record["inputs"]) != canonical_json(inputs):
            return None
        if fingerprint is not None and record["fingerprint"] != fingerprint:
            return None
        return Entry(
            stage=record["stage"],
            version=record["version"],
            inputs=record["inputs"],
            fingerprint=record["fingerprint"],
            created=record["created"],
            payload=record["payload"],
        )

    def put(
        self,
        stage: str,
        version: int,
        inputs: Any,
        payload: Any,
        *,
        fingerprint: str = "",
    ) -> None:
        """Store a finished result atomically (one transaction)."""
        record = {
            "schema": SCHEMA_VERSION,
            "stage": stage,
            "version": version,
            "inputs": _plain(inputs),
            "fingerprint": fingerprint,
            "created": time.time(),
            "payload": payload,
        }
        self._cache.set(self.key(stage, version, inputs), record)

    def has(self, stage: str, version: int, inputs: Any) -> bool:
        return self.get(stage, version, inputs) is not None

    def get_or_compute(
        self,
        stage: str,
        version: int,
        inputs: Any,
        compute: Callable[[], Any],
        *,
        fingerprint: str = "",
    ) -> Any:
        """The stored payload, computing and storing it first if it is missing."""
        entry = self.get(stage, version, inputs, fingerprint=fingerprint or None)
        if entry is not None:
            return entry.payload
        payload = compute()
        self.put(stage, version, inputs, payload, fingerprint=fingerprint)
        return payload

    # -- raw access for job records ---------------------------------------------------

    @property
    def raw(self) -> diskcache.Cache:
        """The underlying cache, for job state (see :mod:`backend.jobs`)."""
        return self._cache

    def close(self) -> None:
        self._cache.close()


def _plain(inputs: Any) -> Any:
    """Inputs as plain JSON data, so an entry never pickles a spec class."""
    return json.loads(canonical_json(inputs))


_STORES: dict[Path, Store] = {}


def open_store(directory: Path | str | None = None) -> Store:
    """A shared Store for a folder (one SQLite connection pool per process)."""
    path = Path(directory) if directory else cache_dir()
    path = path.resolve()
    if path not in _STORES:
        _STORES[path] = Store(path)
    return _STORES[path]
