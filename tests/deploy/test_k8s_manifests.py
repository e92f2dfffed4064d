"""The Kubernetes manifests are valid against the Kubernetes API schemas (kubernetes-validate
ships them: no cluster, no network) and keep the promises the README makes about them."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents():
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.name, doc


def by_name(name):
    return next(doc for _, doc in documents() if doc["metadata"]["name"] == name)


def containers(name):
    return by_name(name)["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize(("filename", "doc"), list(documents()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_manifest_is_valid_kubernetes_in_strict_mode(filename, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_broken_manifest_is_caught():
    doc = by_name("governance-web")
    broken = {**doc, "spec": {**doc["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == [p.name for p in MANIFESTS]


def test_web_probes_the_health_endpoint():
    (web,) = containers("governance-web")
    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz/"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz/"
    assert "gunicorn" in web["command"][-1]


def test_a_gpu_worker_takes_one_gpu_one_audit_at_a_time_on_gpu_nodes():
    spec = by_name("governance-worker-gpu")["spec"]["template"]["spec"]
    (worker,) = spec["containers"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "-Q gpu --concurrency 1" in worker["command"][-1]
    assert spec["nodeSelector"]
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])


def test_cpu_workers_consume_only_the_cpu_queue_and_ask_for_no_gpu():
    (worker,) = containers("governance-worker-cpu")
    assert "-Q cpu " in worker["command"][-1]
    assert "nvidia.com/gpu" not in worker["resources"].get("limits", {})


def test_beat_runs_once_and_is_never_doubled_by_a_rollout():
    beat = by_name("governance-beat")["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"]["type"] == "Recreate"


def test_migrations_run_as_a_job_that_does_not_restart_forever():
    job = by_name("governance-migrate")
    assert job["kind"] == "Job"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert "migrate --noinput" in job["spec"]["template"]["spec"]["containers"][0]["command"][-1]


def test_every_process_reads_the_same_configmap_and_secret():
    for name in ("governance-web", "governance-worker-cpu", "governance-worker-gpu", "governance-beat",
                 "governance-migrate"):
        (container,) = containers(name)
        refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {"governance-env", "governance-secrets"}, name
