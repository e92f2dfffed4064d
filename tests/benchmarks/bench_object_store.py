"""Benchmark: audit wall time with the objects on the local filesystem against SeaweedFS (S3).

Not collected by pytest (the name does not start with test_). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_object_store.py --repeats 3

Sets up the demo's credit-scoring system (German credit MLP, its training and test datasets),
then runs the demo's fairness audit and its robustness audit (a torch audit, FGSM/PGD on the MLP)
on the CPU, each with the objects read from MEDIA_ROOT and from a private SeaweedFS server on
free ports (the same keys, uploaded to its bucket), alternating so that both see the same
machine load. Every read streams the object to a local temporary file while hashing it, so the
difference is the network round trips and the copy. A run is audit_run_create + audit_run_execute
in this process (no broker). Prints a markdown section ready for BENCHMARKS.md: the medians,
their ratio, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

AUDITS = ["fairness", "robustness"]


def setup_django(var_dir: Path):
    os.environ.update({"VAR_DIR": str(var_dir), "DEBUG": "1", "SECRET_KEY": "bench-only",
                       "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "AUDIT_DEVICE": "cpu",
                       "DJANGO_SETTINGS_MODULE": "governance.settings", "LOG_LEVEL": "WARNING",
                       "STORAGE_BACKEND": "filesystem"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="bench-objects-") as tmp:
        setup_django(Path(tmp) / "var")
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test.utils import override_settings

        from audits.runs.models import AuditRun
        from audits.runs.services import audit_run_create, audit_run_execute
        from governance.catalog.loader import catalog_load
        from governance.core.storage import object_verified
        from governance.demo.setup import _credit_system, demo_users_ensure, roles_ensure
        from governance.policies.services import policies_ensure_defaults
        from tests.integration.seaweed import start_seaweed

        print("setting up the credit system and SeaweedFS (not timed) ...", flush=True)
        catalog_load()
        policies_ensure_defaults()
        roles_ensure()
        demo_users_ensure()
        system, _ = _credit_system(get_user_model().objects.get(username="olivia"))
        version = system.versions.get(version="1.0.0")
        server = start_seaweed(Path(tmp) / "seaweed")
        try:
            bucket = server.bucket("bench-objects")
            client = server.client()
            objects = [version.artifact.name, version.train_dataset.file.name, version.eval_dataset.file.name]
            for name in objects:
                client.upload_file(str(Path(settings.MEDIA_ROOT) / name), bucket, name)
            sizes = sum((Path(settings.MEDIA_ROOT) / n).stat().st_size for n in objects)
            # The S3 runs get an empty MEDIA_ROOT, so they can only have read the bucket.
            empty = Path(tmp) / "empty-media"
            stores = {"filesystem": {"STORAGES": settings.STORAGES},
                      "seaweedfs": {"STORAGES": {**settings.STORAGES, "default": server.options(bucket)},
                                    "MEDIA_ROOT": empty}}
            walls = {(kind, store): [] for kind in AUDITS for store in stores}
            reads = {store: [] for store in stores}
            records = [(version.artifact.name, version.artifact_sha256),
                       (version.train_dataset.file.name, version.train_dataset.sha256),
                       (version.eval_dataset.file.name, version.eval_dataset.sha256)]
            for store, overrides in stores.items():  # what a run adds: fetch and verify its three objects
                with override_settings(**overrides):
                    for i in range(21):  # the first read makes the S3 client, once per worker process: untimed
                        start = time.perf_counter()
                        for name, sha in records:
                            with object_verified(name=name, sha256=sha) as fh:
                                fh.read()
                        if i:
                            reads[store].append(time.perf_counter() - start)
            for _ in range(args.repeats):
                for kind in AUDITS:
                    for store, overrides in stores.items():
                        with override_settings(**overrides):
                            start = time.perf_counter()
                            run = audit_run_create(actor=version.created_by, version=version, kind=kind)
                            status = audit_run_execute(run_id=run.pk)
                            walls[kind, store].append(time.perf_counter() - start)
                        assert status == "succeeded", AuditRun.objects.get(pk=run.pk).error
        finally:
            server.stop()
        assert not empty.exists() or not any(empty.rglob("*")), "an S3 run wrote under MEDIA_ROOT"

    load_after = os.getloadavg()
    import torch

    print(f"\nMachine: {os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, torch {torch.__version__}; SeaweedFS on 127.0.0.1; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after. Objects read per run: artifact + datasets, "
          f"{sizes / 1024:.0f} KiB.")
    print("\n| audit | filesystem, median (min) | SeaweedFS, median (min) | ratio S3 / filesystem |\n|---|---|---|---|")
    for kind in AUDITS:
        fs, s3 = walls[kind, "filesystem"], walls[kind, "seaweedfs"]
        print(f"| {kind} | {statistics.median(fs):.2f} s ({min(fs):.2f} s) | {statistics.median(s3):.2f} s "
              f"({min(s3):.2f} s) | {statistics.median(s3) / statistics.median(fs):.2f} |")
    fs, s3 = statistics.median(reads["filesystem"]), statistics.median(reads["seaweedfs"])
    print(f"\nFetching and verifying the three objects alone (median of 20): filesystem {fs * 1000:.1f} ms, "
          f"SeaweedFS {s3 * 1000:.1f} ms (ratio {s3 / fs:.1f}).")
    print(f"{args.repeats} interleaved repeats per audit cell.")


if __name__ == "__main__":
    main()
