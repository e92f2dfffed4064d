"""tests/benchmarks/gpu_check.sh, the one script a lent GPU machine runs: rehearsed here on the CPU.

The full rehearsal (DEVICE=cpu, every step) takes minutes on a shared CPU, so it is run by hand
(BENCHMARKS.md, "GPU checks"); these tests run its frame: steps chosen, statuses and the JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "benchmarks" / "gpu_check.sh"


def gpu_check(tmp_path, **env):
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable, **env})


def test_a_cpu_rehearsal_writes_one_json_with_every_step_s_status_and_result(tmp_path):
    done = gpu_check(tmp_path, DEVICE="cpu", GPU_CHECK_STEPS="env")
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert (result["device"], result["ok"], list(result["steps"])) == ("cpu", True, ["env"])
    env = result["steps"]["env"]
    assert env["rc"] == 0 and env["seconds"] >= 0
    assert {"python", "torch", "cuda_available", "device_name", "load_average"} <= set(env["result"])


@pytest.mark.parametrize("env, message", [
    ({"DEVICE": "tpu"}, "DEVICE must be cuda or cpu, not 'tpu'"),
    ({"DEVICE": "cpu", "GPU_CHECK_STEPS": "env warp"}, "unknown step 'warp'"),
])
def test_a_bad_device_or_step_is_refused_naming_it(tmp_path, env, message):
    done = gpu_check(tmp_path, **env)
    assert done.returncode == 2 and message in done.stderr


def test_the_script_runs_the_gpu_tests_and_the_three_benchmarks_in_their_device_modes():
    text = SCRIPT.read_text()
    assert 'STEPS="${GPU_CHECK_STEPS:-env pytest robustness dp efficiency}"' in text
    assert "-m pytest -q -p no:randomly -m gpu tests" in text
    assert 'bench_robustness.py --device "$DEVICE"' in text and 'bench_dp.py --device "$DEVICE"' in text
    assert 'AUDIT_DEVICE="$DEVICE" "$PYTHON" tests/benchmarks/bench_efficiency.py' in text
    assert 'pip install --no-index --no-deps "${wheels[@]}"' in text
