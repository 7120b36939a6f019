import numpy as np

from backend.store import Store


def test_store_round_trips_arrays(store):
    values = np.arange(10.0)
    store.put("importance", 1, {"k": 6}, values, fingerprint="abc")
    entry = store.get("importance", 1, {"k": 6})
    np.testing.assert_array_equal(entry.payload, values)
    assert entry.fingerprint == "abc" and entry.inputs == {"k": 6}


def test_store_misses_on_any_mismatch(store):
    store.put("importance", 1, {"k": 6}, 1.0, fingerprint="abc")
    assert store.get("importance", 2, {"k": 6}) is None  # new code version
    assert store.get("importance", 1, {"k": 5}) is None  # other inputs
    assert store.get("model", 1, {"k": 6}) is None  # other stage
    assert store.get("importance", 1, {"k": 6}, fingerprint="xyz") is None  # new data
    assert store.get("importance", 1, {"k": 6}, fingerprint="abc").payload == 1.0


def test_store_rejects_a_record_with_another_schema(store):
    store.put("stage", 1, {"a": 1}, "x")
    key = store.key("stage", 1, {"a": 1})
    record = store.raw.get(key)
    store.raw.set(key, {**record, "schema": -1})
    assert store.get("stage", 1, {"a": 1}) is None


def test_get_or_compute_computes_once(store):
    calls = []

    def compute():
        calls.append(1)
        return np.ones(3)

    for _ in range(3):
        store.get_or_compute("stage", 1, {"a": 1}, compute)
    assert len(calls) == 1


def test_store_persists_across_instances(cache_path):
    first = Store(cache_path)
    first.put("stage", 1, {"a": 1}, [1, 2, 3])
    first.close()
    second = Store(cache_path)
    assert second.get("stage", 1, {"a": 1}).payload == [1, 2, 3]
    second.close()


def test_large_entries_are_not_evicted(store):
    big = np.zeros(2_000_000)  # 16 MB
    for i in range(5):
        store.put("big", 1, {"i": i}, big)
    assert all(store.has("big", 1, {"i": i}) for i in range(5))
