#!/usr/bin/env bash
# One prepared run of every GPU check, for a lent device machine; one JSON file of results.
#
#   tests/benchmarks/gpu_check.sh                      # DEVICE=cuda: the real run
#   DEVICE=cpu tests/benchmarks/gpu_check.sh           # the same steps, small and on the CPU (a rehearsal)
#
# Environment:
#   DEVICE           cuda (default) or cpu. With cpu every step runs at a small size.
#   OUT              where results go (the device machine sets it; default: a new temporary folder).
#   WHEELS           a folder of carried wheels to install first with
#                    `pip install --no-index --no-deps` (the device machine has Python 3.12 with
#                    torch+CUDA, numpy, scipy, scikit-learn and pandas only, and no network).
#                    Build it here with tests/benchmarks/gpu_wheels.sh (BENCHMARKS.md, "GPU checks").
#   PYTHON           the interpreter (default: .venv/bin/python if present, else python3).
#   GPU_CHECK_STEPS  which steps, space-separated (default: "env pytest robustness dp efficiency").
#
# Every step runs even when an earlier one fails; each one's exit status, seconds, output tail
# and JSON results land in $OUT/gpu_check.json, and the script exits 1 if any step failed.
set -uo pipefail

cd "$(dirname "$0")/../.."
DEVICE="${DEVICE:-cuda}"
OUT="${OUT:-$(mktemp -d -t gpu-check-XXXXXX)}"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
STEPS="${GPU_CHECK_STEPS:-env pytest robustness dp efficiency}"
mkdir -p "$OUT/steps"

if [ "$DEVICE" != "cuda" ] && [ "$DEVICE" != "cpu" ]; then
    echo "DEVICE must be cuda or cpu, not '$DEVICE'" >&2
    exit 2
fi
if [ "$DEVICE" = "cpu" ]; then  # a rehearsal: every step, at sizes that take seconds
    DP_ARGS=(--epochs 1 --repeats 1 --threads 1 --modes)
    ROBUSTNESS_ARGS=(--curve-only --repeats 1 --steps 3 --threads 1)
    EFFICIENCY_MODELS=(digits)
else
    # Sized for the device machine's 15 minutes, start and transfers included (BENCHMARKS.md).
    DP_ARGS=(--repeats 2)
    ROBUSTNESS_ARGS=(--repeats 2 --resnet-samples 500)
    EFFICIENCY_MODELS=(credit digits)
fi

if [ -n "${WHEELS:-}" ]; then
    shopt -s nullglob
    wheels=("$WHEELS"/*.whl)
    if [ ${#wheels[@]} -gt 0 ]; then
        "$PYTHON" -m pip install --no-index --no-deps "${wheels[@]}" >"$OUT/steps/wheels.log" 2>&1 \
            || echo "wheel install failed; see $OUT/steps/wheels.log" >&2
    fi
fi

run_step() {  # name, then the command; records rc and seconds beside the output
    local name="$1"; shift
    local start end rc ms
    start=$(date +%s%N)
    "$@" >"$OUT/steps/$name.log" 2>&1
    rc=$?
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    printf '{"rc": %d, "seconds": %d.%03d}\n' "$rc" $((ms / 1000)) $((ms % 1000)) >"$OUT/steps/$name.status"
    echo "step $name: rc $rc"
}

for step in $STEPS; do
    case "$step" in
        env)
            run_step env "$PYTHON" -c "import json, os, platform, torch; print(json.dumps({'python': platform.python_version(), 'torch': torch.__version__, 'cuda_available': torch.cuda.is_available(), 'cuda': torch.version.cuda, 'device_name': torch.cuda.get_device_name() if torch.cuda.is_available() else None, 'cpus': os.cpu_count(), 'load_average': os.getloadavg()}))"
            ;;
        pytest)  # the gpu-marked tests; without CUDA they are all skipped (tests/conftest.py)
            run_step pytest "$PYTHON" -m pytest -q -p no:randomly -m gpu tests -rs
            ;;
        robustness)
            run_step robustness "$PYTHON" tests/benchmarks/bench_robustness.py --device "$DEVICE" \
                --json "$OUT/steps/robustness.json" "${ROBUSTNESS_ARGS[@]}"
            ;;
        dp)
            run_step dp "$PYTHON" tests/benchmarks/bench_dp.py --device "$DEVICE" --json "$OUT/steps/dp.json" \
                "${DP_ARGS[@]}"
            ;;
        efficiency)  # the audit's own device choice: AUDIT_DEVICE
            run_step efficiency env AUDIT_DEVICE="$DEVICE" "$PYTHON" tests/benchmarks/bench_efficiency.py \
                --models "${EFFICIENCY_MODELS[@]}"
            ;;
        *)
            echo "unknown step '$step'" >&2
            exit 2
            ;;
    esac
done

"$PYTHON" - "$OUT" "$DEVICE" "$STEPS" <<'EOF'
import json, sys, time
from pathlib import Path

out, device, steps = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split()
result = {"device": device, "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "steps": {}}
for name in steps:
    folder = out / "steps"
    status = json.loads((folder / f"{name}.status").read_text())
    log = (folder / f"{name}.log").read_text(errors="replace")
    entry = {**status, "output_tail": log[-6000:]}
    if (folder / f"{name}.json").exists():
        entry["result"] = json.loads((folder / f"{name}.json").read_text())
    elif name == "env" and status["rc"] == 0:
        entry["result"] = json.loads(log.strip().splitlines()[-1])
    result["steps"][name] = entry
result["ok"] = all(s["rc"] == 0 for s in result["steps"].values())
(out / "gpu_check.json").write_text(json.dumps(result, indent=2))
print(f"{out / 'gpu_check.json'}: {'all steps passed' if result['ok'] else 'some steps failed'}")
sys.exit(0 if result["ok"] else 1)
EOF
