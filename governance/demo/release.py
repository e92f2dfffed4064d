"""The demo's release story, played by the personas through the same services the
pages and the API call, with the deploy gate asked over HTTP by the pipeline client
(deploy/ci/gate_check.py), which verifies every signed answer.

1. 1.0.0 reads sex and age directly and its fairness audit did not clear it, so Olivia (model
   owner) retrains: 1.1.0 without sex and age as inputs, then 1.2.0 without housing either (a
   proxy for age). Their fairness audits are inconclusive - 300 held-out rows cannot decide at
   the audit's error budget, and no check failed - and each gets a signed report.
2. The gate denies 1.2.0 and says why. Olivia requests production approval; Rachel (risk
   officer) accepts the inconclusive fairness result in writing for one audit period and
   approves stage 1; Erik (executive approver) approves stage 2. The gate allows 1.2.0.
   1.1.0 went through the same steps just before.
3. The pipeline posts a production batch for 1.2.0 that has drifted (larger, longer loans to
   younger people; governance/demo/drift.py). The worker's drift review breaches, which revokes
   1.2.0's approval and opens an incident (serious: a high-risk system, so its Article 73 clock
   runs): the gate denies it again and names 1.1.0, the last version still
   allowed, as the rollback; so does GET /api/v1/rollback/credit-scoring/.
4. An applicant appeals a refusal of 1.2.0 through the public API, with no account; Carla
   (compliance officer) overturns it (governance/demo/incidents.py).

Idempotent: a step already done is not done again, and a finished story is only re-checked.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from audits.drift.services import production_batch_register
from audits.reports.models import Report, ReportStatus
from audits.reports.service import report_ensure
from audits.runs.models import AuditRun, RunStatus
from audits.runs.services import audit_run_create
from governance.approvals.models import ApprovalRequest, ApprovalStatus, RiskAcceptance
from governance.approvals.risk import risk_accept
from governance.approvals.services import approval_decide, approval_request_create, policy_gaps
from governance.demo.datasets import CREDIT_CATEGORICAL, CREDIT_NUMERIC, DATA_DIR
from governance.demo.drift import shift_credit_batch
from governance.demo.incidents import appeal_form, appeal_send, breach_incident_log
from governance.gate.keys import gate_key_ensure
from governance.gate.services import rollback_answer, rollback_target
from governance.registry import services
from governance.registry.models import AISystem, Dataset, DatasetRole, ModelVersion
from governance.registry.selectors import dataset_frame
from governance.registry.tokens import pipeline_token_create, pipeline_token_revoke
from training.artifacts import torch_artifact
from training.recipes import tabular_mlp_spec, train_from_spec

SYSTEM = "credit-scoring"
ENV = "production"
CLIENT = Path(settings.BASE_DIR) / "deploy" / "ci" / "gate_check.py"
RETRAINED = [
    # version, inputs dropped, epochs, notes
    ("1.1.0", ["sex", "age"], 20, "Retrained without sex and age as inputs, after 1.0.0's fairness audit did not clear it."),
    ("1.2.0", ["sex", "age", "housing"], 30,
     "Retrained without sex, age or housing (a proxy for age) as inputs; 30 epochs."),
]
ACCEPTANCE = ("Fairness on the 300 held-out rows is inconclusive: the intervals straddle the thresholds and no "
              "check failed. Accepted for one audit period while a larger evaluation set is collected; the weekly "
              "drift review watches the age mix of applicants.")
DRIFTED_BATCH = "Production batch for {version} (demo: drifted)"


class StoryError(RuntimeError):
    pass


def _user(name):
    return get_user_model().objects.get(username=name)


def _wait(what: str, done, *, timeout: float, alive=lambda: True, log=print):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = done()
        if value:
            return value
        if not alive():
            raise StoryError(f"the worker stopped while waiting for {what}; see its log")
        time.sleep(0.5)
    raise StoryError(f"{what} did not finish in {timeout:.0f} s")


def _retrained_version(label: str, dropped: list[str], epochs: int, notes: str):
    """Train and register one retrained credit MLP on the registered training split."""
    base = ModelVersion.objects.select_related("system", "train_dataset", "eval_dataset").get(
        system__slug=SYSTEM, version="1.0.0")
    existing = ModelVersion.objects.filter(system=base.system, version=label).first()
    if existing:
        return existing
    train = dataset_frame(base.train_dataset)
    numeric = [c for c in CREDIT_NUMERIC if c not in dropped]
    categorical = [c for c in CREDIT_CATEGORICAL if c not in dropped]
    spec = tabular_mlp_spec(train, numeric=numeric, categorical=categorical, classes=[0, 1],
                            training={"epochs": epochs})
    model = train_from_spec(spec, train, label_column="risk")
    return services.model_version_register(
        actor=_user("olivia"), system=base.system, version=label, artifact=torch_artifact(model), spec=spec,
        parent=base, train_dataset=base.train_dataset, eval_dataset=base.eval_dataset, notes=notes)


def _audited_and_reported(version, *, alive, timeout, log):
    """A finished fairness audit, then a signed report covering it (the high-risk policy's needs)."""
    run = (AuditRun.objects.filter(version=version, kind="fairness").exclude(status=RunStatus.FAILED)
           .order_by("-created_at").first()) or audit_run_create(actor=_user("olivia"), version=version, kind="fairness")
    run = _wait(f"the fairness audit of {version.version}", lambda: AuditRun.objects.filter(
        pk=run.pk, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).first(), timeout=timeout, alive=alive)
    if run.status == RunStatus.FAILED:
        raise StoryError(f"the fairness audit of {version.version} failed: {run.error}")
    log(f"  fairness audit of {version.version}: {run.outcome} - {run.log}")
    report = report_ensure(actor=_user("olivia"), version=version)
    report = _wait(f"the report of {version.version}", lambda: Report.objects.filter(
        pk=report.pk).exclude(status=ReportStatus.GENERATING).first(), timeout=timeout, alive=alive)
    if report.status != ReportStatus.SIGNED:
        raise StoryError(f"the report of {version.version} was not signed: {report.error}")
    log(f"  signed report {report.report_number} of {version.version} (sha256 {report.sha256[:16]}...)")
    return run


def _approved(version, run, *, log):
    """Olivia requests; Rachel accepts the inconclusive result and signs stage 1; Erik stage 2."""
    req = ApprovalRequest.objects.filter(version=version, environment=ENV).order_by("-created_at").first()
    if req is None:
        # The inconclusive result is not accepted yet: Olivia acknowledges it, in writing.
        gaps = policy_gaps(version=version, environment=ENV)
        req = approval_request_create(actor=_user("olivia"), version=version, environment=ENV,
                                      justification=f"{version.notes} Fairness audit and signed report attached; "
                                                    "the inconclusive fairness result goes to the risk officer.",
                                      acknowledge=bool(gaps))
        log(f"  olivia (model owner) requested {ENV} approval of {version.version}: {req.stage_count} stages"
            + (f", acknowledging: {' '.join(gaps)}" if gaps else ""))
    if run.outcome == "inconclusive" and not RiskAcceptance.objects.filter(audit_run=run, environment=ENV).exists():
        acceptance = risk_accept(actor=_user("rachel"), run=run, environment=ENV, justification=ACCEPTANCE)
        log(f"  rachel (risk officer) accepted the inconclusive fairness result until {acceptance.expires_at:%Y-%m-%d}")
    for stage, person in ((1, "rachel"), (2, "erik")):
        req.refresh_from_db()
        if req.status in (ApprovalStatus.SUBMITTED, ApprovalStatus.IN_REVIEW) and req.current_stage == stage:
            decision = approval_decide(actor=_user(person), request=req, decision="approve",
                                       comment="Evidence reviewed: fairness (accepted residual risk), signed report.",
                                       acknowledge=bool(policy_gaps(version=version, environment=ENV)))
            log(f"  {person} approved stage {stage} as {decision.role.replace('_', ' ')}")
    req.refresh_from_db()
    return req


def _drift_breach(version, token, *, alive, timeout, log):
    """The pipeline posts a drifted production batch for `version`; the worker reviews it."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    name = DRIFTED_BATCH.format(version=version.version)
    if Dataset.objects.filter(system=version.system, role=DatasetRole.PRODUCTION, name=name).exists():
        return
    frame = pd.read_csv(DATA_DIR / "german_credit.csv")
    _, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
    buf = io.StringIO()
    shift_credit_batch(test).to_csv(buf, index=False)
    review = production_batch_register(actor_or_token=token, system=version.system, version=version,
                                       upload=buf.getvalue().encode("utf-8"), name=name, review=True).review
    log(f"  pipeline token {token.name} posted '{name}' (300 rows); drift review requested")
    review = _wait(f"the drift review of {version.version}", lambda: AuditRun.objects.filter(
        pk=review.pk, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).first(), timeout=timeout, alive=alive)
    log(f"  drift review of {version.version}: {review.outcome} - {review.log}")


@contextmanager
def _gate_server():
    """This app on an ephemeral loopback port for the story's HTTP calls (the real server
    starts after the story)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def gate_check(url: str, version: str, key: str, public_key: Path, *, log) -> int:
    """Run the pipeline client as a pipeline would; show what it printed and its exit status."""
    env = {**os.environ, "GOV_GATE_TOKEN": key}
    done = subprocess.run(
        [sys.executable, str(CLIENT), "--url", url, "--system", SYSTEM, "--version", version,
         "--environment", ENV, "--public-key", str(public_key)],
        env=env, capture_output=True, text=True, timeout=60)
    for line in (done.stdout + done.stderr).strip().splitlines():
        log(f"    | {line}")
    log(f"    gate_check.py exit status {done.returncode}")
    return done.returncode


@contextmanager
def _story_token():
    """A pipeline token for the story's calls, revoked when the story ends (keys are stored
    hashed, so the story cannot reuse the one `make demo` showed)."""
    token, key = pipeline_token_create(name=f"demo-release-{int(time.time())}", scopes=["gate:read", "batches:write"],
                                       systems=[SYSTEM])
    try:
        yield token, key
    finally:
        pipeline_token_revoke(token=token)


@contextmanager
def _mail_counted(log):
    """Say how many notifications the story sent, and where they are (var/mail in development)."""
    folder = Path(settings.EMAIL_FILE_PATH) if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend") else None
    before = len(list(folder.iterdir())) if folder and folder.is_dir() else 0
    yield
    if folder and folder.is_dir():
        sent = len(list(folder.iterdir())) - before
        if sent:
            log(f"notifications: {sent} email(s) to the personas, in {folder}")


def demo_release(*, alive=lambda: True, timeout: float = 600, log=print, serve_url="http://127.0.0.1:8000") -> dict:
    """Play the story (see the module docstring); return the client's exit statuses by step
    and the rollback version."""
    public_key, _ = gate_key_ensure()
    system = AISystem.objects.get(slug=SYSTEM)
    newest_label = RETRAINED[-1][0]
    exits: dict = {}
    with _story_token() as (token, key), _gate_server() as url, _mail_counted(log):
        if Dataset.objects.filter(system=system, name=DRIFTED_BATCH.format(version=newest_label)).exists():
            log(f"release story: already played; the gate now says, for {newest_label}:")
            exits["drifted"] = gate_check(url, newest_label, key, public_key, log=log)
        else:
            exits = _play(url, token, key, public_key, alive=alive, timeout=timeout, log=log)
    target = rollback_target(system=system, environment=ENV)
    exits["rollback"] = target.version if target else None
    log(f"rollback: GET /api/v1/rollback/{SYSTEM}/?environment={ENV} -> {exits['rollback'] or 'no version allowed'}")
    if target:
        log("  " + rollback_answer(system=system, environment=ENV)["rollback"]["sentence"])
    log(f"replay against the running app: GOV_GATE_TOKEN=<a gate:read token> python "
        f"{CLIENT.relative_to(settings.BASE_DIR)} --url {serve_url} --system {SYSTEM} "
        f"--version {newest_label} --environment {ENV} --public-key {public_key}")
    return exits


def _play(url, token, key, public_key, *, alive, timeout, log) -> dict:
    exits = {}
    log("release story: retrain, audit, approve and ship; then drift, and roll back")
    appeal = appeal_form(url)  # served now, sent at the end: a person takes a while to write it
    versions = []
    for label, dropped, epochs, notes in RETRAINED:
        version = _retrained_version(label, dropped, epochs, notes)
        log(f"{label}: {notes}")
        versions.append((version, _audited_and_reported(version, alive=alive, timeout=timeout, log=log)))
    newest = versions[-1][0]
    log(f"gate before approval ({newest.version}):")
    exits["before"] = gate_check(url, newest.version, key, public_key, log=log)
    for version, run in versions:
        log(f"approval of {version.version} in {ENV}:")
        req = _approved(version, run, log=log)
        log(f"  request {req.status}" + (f", valid until {req.expires_at:%Y-%m-%d}" if req.expires_at else ""))
    log(f"gate after approval ({newest.version}):")
    exits["approved"] = gate_check(url, newest.version, key, public_key, log=log)
    log(f"planted drift breach on {newest.version}:")
    _drift_breach(newest, token, alive=alive, timeout=timeout, log=log)
    breach_incident_log(newest, log=log)
    log(f"gate after the drift breach ({newest.version}):")
    exits["drifted"] = gate_check(url, newest.version, key, public_key, log=log)
    log("an appeal from outside:")
    appeal_send(url, appeal, log=log)
    return exits

