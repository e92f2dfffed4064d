"""Start a real Celery worker whose fairness runner first runs one long step with no progress.

`python -c "import tests.integration.slow_step as s; s.main()" -A governance worker ...`: the
worker patches the runner once it is ready (Django is set up), so the step is the only change.
SLOW_STEP_SECONDS says how long it takes; SLOW_STEP_MARKER names a file it touches when it starts."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _patch(**kwargs):
    from audits.kinds.fairness import runner

    original = runner.run

    def slow(*, run, progress):
        progress(5, "one long step")
        with open(os.environ["SLOW_STEP_MARKER"], "a") as marker:
            marker.write(f"{os.getpid()}\n")
        time.sleep(float(os.environ.get("SLOW_STEP_SECONDS", "8")))
        return original(run=run, progress=progress)

    runner.run = slow


def main():
    import sys

    from celery.__main__ import main as celery_main
    from celery.signals import worker_ready

    worker_ready.connect(_patch, weak=False)
    sys.argv = ["celery", *sys.argv[1:]]
    Path(os.environ["SLOW_STEP_MARKER"]).touch()
    celery_main()
