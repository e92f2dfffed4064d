"""Benchmark: what refusing an oversized input costs, against what accepting it used to cost.

Not a test (pytest does not collect bench_*.py). Each case runs in a fresh Python process, so
its peak resident memory (ru_maxrss) is its own; the baseline is the path before the bounds:
pandas reading the whole Parquet file, torch building the module a spec describes.

    .venv/bin/python tests/benchmarks/bench_inputs.py            # 10^7-row Parquet, 5k x 5k MLP
    .venv/bin/python tests/benchmarks/bench_inputs.py --rows 100000000

Cases:
- parquet: a Parquet file of `--rows` rows x 3 int8 zero columns (small on disk: it compresses);
  ours: governance.registry.datafiles.read_table (refused from the footer), baseline: pd.read_parquet.
- spec: an MLP of in_features=hidden=`--width`; ours: training.architectures.build_model (refused
  from the spec), baseline: the MLP class itself.
Exit status 0 when ours peaks below a tenth of the baseline in every case, 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = r"""
import io, os, resource, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.test_settings")
case, side, path, width = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
import django; django.setup()
import pandas as pd, torch
from governance.core.exceptions import ApplicationError
from governance.registry.datafiles import read_table
from training.architectures import MLP, ArchitectureError, build_model
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
outcome = "accepted"
if case == "parquet":
    data = open(path, "rb").read()
    if side == "ours":
        try:
            read_table(data)
        except ApplicationError as exc:
            outcome = "refused: " + exc.message
    else:
        pd.read_parquet(io.BytesIO(data))
else:
    params = dict(in_features=width, hidden=[width], n_classes=2)
    if side == "ours":
        try:
            build_model({{"architecture": "mlp", "params": params}})
        except ArchitectureError as exc:
            outcome = "refused: " + str(exc)
    else:
        MLP(**params)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{{(peak - base) / 1024:.1f}}\t{{elapsed:.3f}}\t{{outcome[:110]}}")
"""


def run(case: str, side: str, path: str, width: int) -> tuple[float, float, str]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=ROOT), case, side, path, str(width)],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    mib, seconds, outcome = out.split("\t")
    return float(mib), float(seconds), outcome


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--width", type=int, default=5_000)
    args = parser.parse_args()
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.join(ROOT, "var", "bench-inputs.parquet")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    zeros = pa.array(np.zeros(args.rows, dtype=np.int8))
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": zeros, "b": zeros, "y": zeros}), buf, compression="zstd")
    with open(path, "wb") as fh:
        fh.write(buf.getvalue())
    print(f"load average {os.getloadavg()[0]:.2f}; parquet {args.rows:,} rows, {len(buf.getvalue()):,} bytes; "
          f"MLP {args.width:,} x {args.width:,}")
    ok = True
    try:
        for case in ("parquet", "spec"):
            ours = run(case, "ours", path, args.width)
            base = run(case, "baseline", path, args.width)
            print(f"{case:8} ours: +{ours[0]:.1f} MiB peak, {ours[1]:.3f} s, {ours[2]}")
            print(f"{case:8} baseline: +{base[0]:.1f} MiB peak, {base[1]:.3f} s, {base[2]}")
            ok &= ours[0] < base[0] / 10
    finally:
        os.remove(path)
    print(f"load average {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
