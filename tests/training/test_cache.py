"""The small persistent JSON cache (training/cache.py): one atomic file per key, never trusted blindly."""

import json
import threading

from training import cache
from training.cache import cache_get, cache_put

KEY = {"accountant": "prv", "steps": 345, "sample_rate": 1 / 23}


def test_a_value_put_is_got_back_for_the_same_key(tmp_path):
    cache_put(tmp_path, "ns", KEY, {"noise_multiplier": 1.25})
    assert cache_get(tmp_path, "ns", dict(reversed(list(KEY.items())))) == {"noise_multiplier": 1.25}


def test_another_key_or_namespace_is_a_miss(tmp_path):
    cache_put(tmp_path, "ns", KEY, {"noise_multiplier": 1.25})
    assert cache_get(tmp_path, "ns", {**KEY, "steps": 346}) is None
    assert cache_get(tmp_path, "other", KEY) is None


def test_no_directory_means_no_cache():
    cache_put(None, "ns", KEY, {"noise_multiplier": 1.25})
    assert cache_get(None, "ns", KEY) is None


def test_a_missing_directory_is_created_on_the_first_put(tmp_path):
    cache_put(tmp_path / "var" / "cache", "ns", KEY, {"v": 1})
    assert cache_get(tmp_path / "var" / "cache", "ns", KEY) == {"v": 1}


def test_a_truncated_or_foreign_file_is_a_miss_and_the_next_put_repairs_it(tmp_path):
    path = cache._path(tmp_path, "ns", KEY)
    path.write_text('{"key": {"accountant": "prv", "ste')
    assert cache_get(tmp_path, "ns", KEY) is None
    path.write_text(json.dumps({"key": {**KEY, "steps": 1}, "value": {"noise_multiplier": 9.0}}))
    assert cache_get(tmp_path, "ns", KEY) is None  # a file claiming another key is not this key's answer
    path.write_text(json.dumps({"key": KEY, "value": [1, 2]}))
    assert cache_get(tmp_path, "ns", KEY) is None
    cache_put(tmp_path, "ns", KEY, {"noise_multiplier": 1.25})
    assert cache_get(tmp_path, "ns", KEY) == {"noise_multiplier": 1.25}


def test_a_write_leaves_no_temporary_file_behind(tmp_path):
    cache_put(tmp_path, "ns", KEY, {"v": 1})
    assert [p.name for p in tmp_path.iterdir()] == [cache._path(tmp_path, "ns", KEY).name]


def test_a_directory_that_cannot_be_written_costs_a_miss_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache_put(blocker, "ns", KEY, {"v": 1})
    assert cache_get(blocker, "ns", KEY) is None


def test_two_writers_of_the_same_key_never_leave_a_torn_file(tmp_path):
    """Two workers calibrating at once: every read in between sees no file or a whole one."""
    values = [{"noise_multiplier": float(i), "pad": "x" * 20_000} for i in range(2)]
    torn, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            path = cache._path(tmp_path, "ns", KEY)
            if path.exists():
                got = cache_get(tmp_path, "ns", KEY)
                if got not in values:
                    torn.append(got)

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=lambda v=v: [cache_put(tmp_path, "ns", KEY, v) for _ in range(50)])
               for v in values]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert torn == []
    assert cache_get(tmp_path, "ns", KEY) in values
