#!/usr/bin/env bash
# Build the folder of wheels that tests/benchmarks/gpu_check.sh installs on a device machine
# (Python 3.12, x86_64 Linux, torch+CUDA, numpy, scipy, scikit-learn and pandas preinstalled,
# no network). Run here, where the package index is reachable, with the project's own pins:
#
#   tests/benchmarks/gpu_wheels.sh [FOLDER]        # default: gpu-wheels/
#
# Everything in constraints.txt except what the machine already has (torch and the CUDA
# runtime, numpy, scipy, scikit-learn, pandas), as binary wheels for CPython 3.12, no
# dependency resolution (the pins are the resolution). Pass the folder to the run as carry
# and set WHEELS to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
FOLDER="${1:-gpu-wheels}"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
mkdir -p "$FOLDER"
grep -viE '^(torch|numpy|scipy|scikit-learn|pandas|nvidia-|triton)[=<> ]' constraints.txt | grep -vE '^\s*(#|$)' \
    >"$FOLDER/requirements.txt"
"$PYTHON" -m pip download --dest "$FOLDER" --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform any -r "$FOLDER/requirements.txt"
du -sh "$FOLDER"
