"""Shared fixtures: an isolated result store and a tiny, fast RunSpec."""

from __future__ import annotations

import pytest
import torch

from backend.specs import RunSpec, make_runspec
from backend.store import Store

# One thread per test process: the suite shares two cores with whatever else runs.
torch.set_num_threads(1)

TINY_SPLIT = {
    "members": 300,
    "nonmembers": 200,
    "shadow_members": 200,
    "shadow_nonmembers": 150,
    "reference": 150,
}


def tiny_spec(**overrides) -> RunSpec:
    """A digits RunSpec that trains in about a second."""
    sections = {"split": dict(TINY_SPLIT), "train": {"epochs": 4, "batch_size": 32}}
    for section, values in overrides.items():
        sections.setdefault(section, {}).update(values)
    return make_runspec("digits", **sections)


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """Every test writes to a temporary store, never to the project's cache/."""
    path = tmp_path_factory.mktemp("session-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VALUERISK_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def computed(session_cache) -> RunSpec:
    """A tiny spec with every dashboard result computed into the session store."""
    from backend import jobs

    spec = tiny_spec()
    jobs.run_inline("analysis", spec)
    return spec


@pytest.fixture
def cache_path(tmp_path, monkeypatch):
    """A fresh cache folder, also set as VALUERISK_CACHE_DIR for subprocesses."""
    path = tmp_path / "cache"
    monkeypatch.setenv("VALUERISK_CACHE_DIR", str(path))
    return path


@pytest.fixture
def store(cache_path):
    store = Store(cache_path)
    yield store
    store.close()
