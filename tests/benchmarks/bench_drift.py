"""Benchmark: our drift_review against Evidently's DataDriftPreset, same data, one run.

Not a test (pytest does not collect bench_*.py). Run it in the benchmark venv,
which has Evidently; our probe is imported from the repository via sys.path:

    python3.11 -m venv .venv-bench
    .venv-bench/bin/pip install numpy==2.4.6 "pandas>=2.2,<3" scipy==1.17.1 evidently==0.7.23
    .venv-bench/bin/python tests/benchmarks/bench_drift.py            # 1M x 50
    .venv-bench/bin/python tests/benchmarks/bench_drift.py --rows 100000

Evidently 0.7.23 does not import under pandas 3 (it imports
pandas.core.dtypes.common.infer_dtype_from_object, removed in pandas 3), so the
benchmark venv pins pandas 2.x; our probe runs on both.

Data: reference and current batch both have --rows rows (default 1,000,000) and
50 features: 40 numeric (normal, log-normal, and rounded values with many ties;
10 of them shifted in the batch) and 10 categorical object-dtype string
columns (5 to 50 categories; 3 of them re-weighted in the batch, one with an
unseen category). Seeded, generated in memory.
"""

import argparse
import gc
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audits.kinds.drift.probe import drift_review  # noqa: E402

N_NUMERIC, N_CATEGORICAL = 40, 10


def make_frame(rng, rows, *, shifted):
    data = {}
    for i in range(N_NUMERIC):
        shift = 0.2 if shifted and i % 4 == 0 else 0.0
        kind = i % 3
        if kind == 0:
            data[f"num_{i}"] = rng.normal(shift, 1.0, rows)
        elif kind == 1:
            data[f"num_{i}"] = rng.lognormal(shift, 0.8, rows)
        else:  # rounded values: heavy ties, as ages or counts in real data
            data[f"num_{i}"] = np.round(rng.normal(40 + 10 * shift, 12, rows))
    for j in range(N_CATEGORICAL):
        k = 5 + 5 * j
        names = np.array([f"cat{j}_{c}" for c in range(k)] + [f"cat{j}_new"], dtype=object)
        weights = np.linspace(1.0, 2.0, k)
        if shifted and j < 3:
            weights = weights[::-1]
        probs = np.append(weights / weights.sum(), 0.0)
        if shifted and j == 0:
            probs = np.append(weights / weights.sum() * 0.97, 0.03)
        codes = rng.choice(k + 1, size=rows, p=probs)
        data[f"cat_{j}"] = names[codes]  # object dtype sharing a few str objects
    return pd.DataFrame(data)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    """Wall-clock and process CPU seconds of fn(); CPU time is the fairer number
    on a shared machine, where wall time includes waiting for a core."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def run_ours(reference, current, numeric, categorical):
    wall, cpu, result = timed(lambda: drift_review(
        reference, current, numeric=numeric, categorical=categorical))
    json.dumps(result, allow_nan=False)  # the result must store as JSON
    return wall, cpu, sum(f["drifted"] for f in result["features"])


def run_evidently(reference, current, numeric, categorical):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)

    def run():
        report = Report([DataDriftPreset()])
        return report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )

    wall, cpu, snapshot = timed(run)
    drifted = snapshot.dict()["metrics"][0]["value"]["count"]
    return wall, cpu, int(drifted)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    reference = make_frame(rng, args.rows, shifted=False)
    current = make_frame(rng, args.rows, shifted=True)
    numeric = [c for c in reference.columns if c.startswith("num_")]
    categorical = [c for c in reference.columns if c.startswith("cat_")]
    print(f"rows: reference {len(reference):,}, current {len(current):,}; "
          f"features: {len(numeric)} numeric + {len(categorical)} categorical")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"pandas {pd.__version__}; data in memory, peak RSS {peak_rss_mib():.0f} MiB")

    ours, ours_cpu, ours_drifted = run_ours(reference, current, numeric, categorical)
    print(f"ours (drift_review): wall {ours:8.2f} s, CPU {ours_cpu:8.2f} s, "
          f"{ours_drifted} features drifted, peak RSS {peak_rss_mib():.0f} MiB")
    if args.skip_evidently:
        return
    gc.collect()
    import evidently

    theirs, theirs_cpu, theirs_drifted = run_evidently(reference, current, numeric, categorical)
    print(f"evidently {evidently.__version__} DataDriftPreset: wall {theirs:8.2f} s, "
          f"CPU {theirs_cpu:8.2f} s, {theirs_drifted} columns drifted, "
          f"peak RSS {peak_rss_mib():.0f} MiB")
    print(f"ratio (evidently / ours): wall {theirs / ours:.1f}x, CPU {theirs_cpu / ours_cpu:.1f}x")


if __name__ == "__main__":
    main()
