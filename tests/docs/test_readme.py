"""Every shell block of the README and of deploy/'s pages runs, as written, against a live server.

The test plays the state `make demo` leaves behind (the catalog, the demo users, the credit
scoring system with version 1.0.0, the gate key and a signed report) on the test database,
then runs the blocks of each page in order in a scratch folder that holds what a reader has at
the repository root (manage.py, .venv, deploy/, docs/examples/, var/media/). Commands run with
the real settings module, not the test one, and without SECRET_KEY, so a page that forgets how
a plain shell gets the demo's settings fails here as it would for a reader. Nothing runs a
worker: a block that requests an audit only shows that the request was accepted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from audits.reports import service as reports
from audits.runs import services as runs
from audits.runs.models import AuditRun
from governance.catalog.loader import catalog_load
from governance.demo.setup import _credit_system, demo_users_ensure, roles_ensure
from governance.gate.keys import gate_key_ensure
from governance.policies.services import policies_ensure_defaults
from governance.registry.models import ModelVersion
from governance.registry.tokens import pipeline_token_create
from tests.approval_fixtures import approve, make_version, passing_run, signed_report
from tests.docs.shell_blocks import curl_that_fails_on_http_errors, run_block, shell_blocks
from tests.integration.conftest import database_url

ROOT = Path(settings.BASE_DIR)
PAGES = ["README.md", "deploy/README.md", "deploy/ci/README.md"]
# What the test must not hand the pages: they have to say how a shell gets these.
WITHHELD = {"SECRET_KEY", "SECRET_KEY_FILE", "DJANGO_SETTINGS_MODULE", "DEBUG", "BASE"}


def _must_fail() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def demo_state(transactional_db, settings, monkeypatch, tmp_path):
    """What `make demo` leaves that the pages name, without its worker or its minutes of training."""
    enqueued = []
    monkeypatch.setattr(runs, "audit_run_enqueue", lambda *, run_id: enqueued.append(run_id))
    monkeypatch.setattr(reports, "report_enqueue", lambda *, report_id: None)  # built below, by hand
    work = tmp_path / "work"
    # The reader's var/, as make demo fills it: uploads, the gate key, the development-only signer.
    var = work / "var"
    settings.MEDIA_ROOT = var / "media"
    settings.GATE_SIGNING_KEY_PATH = var / "keys" / "gate-signing.pem"
    settings.REPORT_DEV_PKI_DIR = var / "pki"
    settings.REPORT_SIGNING_P12 = str(var / "pki" / "signer.p12")
    settings.REPORT_TRUST_ROOTS = [str(var / "pki" / "dev-ca.pem")]
    catalog_load()
    policies_ensure_defaults()
    roles_ensure()
    demo_users_ensure()
    olivia = get_user_model().objects.get(username="olivia")
    _credit_system(olivia)
    public_key, _ = gate_key_ensure()
    version = ModelVersion.objects.get(system__slug="credit-scoring", version="1.0.0")
    run = runs.audit_run_create(actor=olivia, version=version, kind="fairness")
    runs.audit_run_execute(run_id=run.pk)
    settings.DEBUG = True  # the demo's development-only signer under var/pki, as make demo signs
    report = reports.report_generate(actor=olivia, version=version)
    reports.report_build(report_id=report.pk)
    settings.DEBUG = False
    _allowed_in_production(version.system)
    before = len(enqueued)
    return {"work": work, "public_key": public_key, "runs_requested": lambda: enqueued[before:]}


def _allowed_in_production(system):
    """What the release story leaves: a later version (1.1.0) allowed in production. Its passing
    audit and signed report are rows, as the gate tests make them (tests/approval_fixtures.py):
    the story's audits and signing are the worker's, and tests/integration plays them."""
    people = {persona: get_user_model().objects.get(username=login) for persona, login in
              {"alice": "olivia", "bob": "rachel", "sam": "sam", "carla": "carla", "erik": "erik"}.items()}
    later = make_version(system, "1.1.0", creator=people["alice"])
    passing_run(later)
    signed_report(later, number="R-2026-0900")
    assert approve(later, "production", people).status == "approved"


def _environment(live_server, tmp_path, *, var: Path) -> dict:
    """The shell a reader has: no test settings, the test database, the scratch folder's var/."""
    env = {k: v for k, v in os.environ.items() if k not in WITHHELD}
    bin_dir = curl_that_fails_on_http_errors(tmp_path / "bin")
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", DATABASE_URL=database_url(), VAR_DIR=str(var),
               BASE=live_server.url)
    return env


def _repository_root(work: Path) -> Path:
    """A reader's repository root, whose files the blocks write beside (gate.pub.pem, ...)."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("manage.py", "deploy", "docs"):
        (work / name).symlink_to(ROOT / name)
    venv = ROOT / ".venv"
    (work / ".venv").symlink_to(venv if venv.exists() else Path(sys.prefix))
    return work


def _run_page(page: str, *, cwd: Path, env: dict) -> tuple[list, dict]:
    ran = []
    for block in shell_blocks((ROOT / page).read_text(), path=page):
        if block.not_run:
            continue
        result = run_block(block, cwd=cwd, env=env)
        if result.returncode != 0 or result.missing:
            pytest.fail(result.explain(), pytrace=False)
        ran.append(result)
        env = result.env
    return ran, env


def test_every_page_in_the_repository_with_a_shell_block_is_run_here():
    pages = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not pages:  # not a git checkout (an sdist): walk the tree instead
        pages = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.md")
                 if not any(part.startswith(".") or part == "var" for part in p.relative_to(ROOT).parts)]
    with_blocks = {page for page in pages if shell_blocks((ROOT / page).read_text(), path=page)}
    assert with_blocks == set(PAGES)


def test_a_management_command_without_the_demo_setting_says_what_to_export():
    env = {k: v for k, v in os.environ.items() if k not in WITHHELD}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in done.stderr and "export DEBUG=1" in done.stderr


def test_only_the_blocks_that_start_servers_or_the_suite_are_not_run():
    not_run = {(block.path, block.code.splitlines()[0]) for page in PAGES
               for block in shell_blocks((ROOT / page).read_text(), path=page) if block.not_run}
    assert not_run == {
        ("README.md", "make demo   # set up, then run the app with a worker; open http://127.0.0.1:8000"),
        ("README.md", "# on every machine"),
        ("deploy/README.md", "# web"),
    }


def test_the_readme_and_the_deploy_pages_run_as_written(demo_state, live_server, tmp_path):
    missing = [tool for tool in ("curl", "pdfsig") if not shutil.which(tool)]
    if missing:
        message = f"the README runs {', '.join(missing)} (Debian: apt-get install curl poppler-utils)"
        if _must_fail():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    work = _repository_root(demo_state["work"])
    env = _environment(live_server, tmp_path, var=work / "var")
    ran, after = _run_page("README.md", cwd=work, env=env)
    assert len(ran) >= 6
    # The session's variables carried from block to block: the upload's ids reached the audit request.
    assert after["VERSION"] and after["RUN"] and after["ASSESSMENT"]
    assert (work / "gate.pub.pem").read_bytes() == demo_state["public_key"].read_bytes()
    trail = [json.loads(line) for line in (work / "audit-log.jsonl").read_text().splitlines()]
    assert trail and after["ANCHOR"] == f"{trail[-1]['seq']}:{trail[-1]['hash']}"
    # Accepted, and waiting for a worker: the fairness audit, DP retraining, the batch's drift review,
    # and two explainability audits (one of them explains a case).
    requested = AuditRun.objects.filter(pk__in=demo_state["runs_requested"]())
    assert sorted(requested.values_list("kind", flat=True)) == [
        "dp_retraining", "drift", "explainability", "explainability", "fairness"]

    # deploy/: production settings (DEBUG off, SECRET_KEY set), the app's python first on PATH.
    venv_bin = Path(sys.executable).parent
    production = {**_environment(live_server, tmp_path, var=work / "var"), "SECRET_KEY": "docs-test-only-secret"}
    production["PATH"] = f"{venv_bin}{os.pathsep}{production['PATH']}"
    ran, _ = _run_page("deploy/README.md", cwd=work, env=production)
    assert len(ran) == 1  # the release step; the others start servers

    # deploy/ci/: a pipeline's repository holds the client and the committed public key.
    pipeline = tmp_path / "pipeline"
    pipeline.mkdir()
    shutil.copy(ROOT / "deploy" / "ci" / "gate_check.py", pipeline)
    shutil.copy(demo_state["public_key"], pipeline / "gate.pub.pem")
    _, key = pipeline_token_create(name="docs-ci", scopes=["gate:read"], systems=["credit-scoring"])
    ci_env = {**env, "GOV_URL": live_server.url, "GOV_GATE_TOKEN": key}
    ran, _ = _run_page("deploy/ci/README.md", cwd=pipeline, env=ci_env)
    assert len(ran) == 2
