"""The demo's production batch: a deliberately shifted slice of German credit, and a weekly review.

The shift is a story, not noise: a year later the bank lends more, for longer, to younger
people. Starting from the held-out test split (so nothing here was trained on), every loan
is 1.8x larger and 1.5x longer, and two applicants in five are 19-25 years old. Such a batch
breaches on credit_amount, duration and age (PSI well above 0.25, p-values far below the
review's budget); batches drawn from it are caught every time in the drift benchmark
(BENCHMARKS.md, "Verdicts: drift"), and the model's output in most of them.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from audits.drift.models import DriftSchedule
from audits.drift.services import (
    drift_review_request,
    drift_schedule_set,
    production_batch_register,
)
from audits.runs.models import AuditRun, RunStatus
from governance.demo.datasets import DATA_DIR
from governance.registry.models import Dataset, DatasetRole, ModelVersion

SHIFTED_NAME = "Production batch (demo: larger, longer loans to younger applicants)"


def shift_credit_batch(frame: pd.DataFrame) -> pd.DataFrame:
    """Deterministic shift of German credit rows (see the module docstring)."""
    out = frame.reset_index(drop=True).copy()
    out["credit_amount"] = (out["credit_amount"] * 1.8).round().astype(int)
    out["duration"] = (out["duration"] * 1.5).round().astype(int)
    young = np.arange(len(out)) % 5 < 2
    out.loc[young, "age"] = 19 + np.arange(int(young.sum())) % 7
    return out


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def demo_drift_ensure(*, owner, system_slug: str = "credit-scoring", log=print) -> None:
    """Idempotent: one shifted batch with its review requested (the worker runs it), and a
    weekly schedule. Never runs the review itself."""
    from sklearn.model_selection import train_test_split

    version = ModelVersion.objects.select_related("system").get(system__slug=system_slug, version="1.0.0")
    system = version.system
    batch = Dataset.objects.filter(system=system, role=DatasetRole.PRODUCTION, name=SHIFTED_NAME).first()
    if batch is None:
        frame = pd.read_csv(DATA_DIR / "german_credit.csv")
        _, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
        batch = production_batch_register(
            actor_or_token=owner, system=system, version=version, upload=_csv_bytes(shift_credit_batch(test)),
            name=SHIFTED_NAME, review=True,
        ).batch
        log(f"drift: shifted production batch registered ({batch.n_rows} rows), review requested")
    elif not AuditRun.objects.filter(version=version, kind="drift", params__batch=str(batch.pk)).exclude(
            status=RunStatus.FAILED).exists():
        drift_review_request(actor=owner, version=version, batch=batch)
        log("drift: review of the shifted batch requested")
    if not DriftSchedule.objects.filter(system=system).exists():
        drift_schedule_set(actor=owner, system=system, version=version, crontab="@weekly")
        log("drift: weekly review scheduled (Mondays 06:00 UTC)")
