"""A small persistent cache of JSON values in a directory, one file per key; no Django.

DP retraining caches two things that are pure functions of their inputs and cost more than a
whole small training: the noise multiplier for (accountant, sample rate, steps, epsilon,
delta, tolerance, Opacus version) and the fastest per-sample-gradient mode for (architecture,
input shape, batch size class, device, torch and Opacus versions). The directory is always
passed in explicitly (the Django side passes settings.DP_CACHE_DIR); None turns caching off.

One file per key means no read-modify-write: two workers that compute the same entry write the
same bytes, each through a temporary file in the same directory and os.replace (atomic on
POSIX and Windows), so a reader sees either no file or a whole one. A file that is not valid
JSON, or whose stored key is not the key asked for, is a miss, never an answer; callers also
check what a hit gives them before trusting it (training/dp.py re-runs the accountant once).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def _canonical(key: dict) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def _path(directory: Path, namespace: str, key: dict) -> Path:
    digest = hashlib.sha256(f"{namespace}\n{_canonical(key)}".encode()).hexdigest()
    return directory / f"{namespace}-{digest[:32]}.json"


def cache_get(directory, namespace: str, key: dict) -> dict | None:
    """The value stored for `key`, or None: no directory, no file, unreadable, or another key."""
    if directory is None:
        return None
    try:
        stored = json.loads(_path(Path(directory), namespace, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, unreadable, truncated or not JSON: recompute
        return None
    if not isinstance(stored, dict) or stored.get("key") != json.loads(_canonical(key)):
        return None
    value = stored.get("value")
    return value if isinstance(value, dict) else None


def cache_put(directory, namespace: str, key: dict, value: dict) -> None:
    """Store `value` for `key` atomically; a cache that cannot be written is skipped, not an error."""
    if directory is None:
        return
    directory = Path(directory)
    body = json.dumps({"key": json.loads(_canonical(key)), "value": value}, sort_keys=True)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{namespace}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, _path(directory, namespace, key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:  # a read-only or full disk costs the next run a recomputation, nothing more
        return
