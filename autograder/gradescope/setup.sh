#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04,
# system Python 3.10), with the whole zip already unpacked in /autograder/source.
#
# It creates the Python environment run_autograder uses: a virtual environment at
# /autograder/venv (Gradescope's own harness keeps the system python3 and its packages),
# with the CPU build of torch and every other dependency at the exact versions of
# constraints.txt. The kit itself is not pip-installed: run_autograder runs it from
# /autograder/source. It also creates the unprivileged user `student` that student code runs
# as, and makes the reference solution, the graders and the results readable by root only.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV=/autograder/venv
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip==24.0
# The CPU build: the default torch wheel on Linux pulls several GB of CUDA libraries.
"$VENV/bin/python" -m pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
# Everything else, each at the version constraints.txt pins.
"$VENV/bin/python" -m pip install -c "$SOURCE/constraints.txt" \
    numpy pytest hypothesis nbformat jsonschema gradescope-utils rich
"$VENV/bin/python" -c 'import torch; print("torch", torch.__version__, "cuda:", torch.cuda.is_available())'
"$VENV/bin/python" -m compileall -q "$SOURCE/autograder"

# The unprivileged user that student code runs as (when run_autograder runs as root).
if ! id -u student >/dev/null 2>&1; then
    adduser --disabled-password --gecos "" --no-create-home student
fi

# Everyone may read the engine and the environment; only root may read the reference
# solution, the graders and the results.
chmod -R a+rX "$VENV" "$SOURCE"
chmod -R go-rwx "$SOURCE/solutions" "$SOURCE/autograder/graders"
mkdir -p /autograder/results
chmod -R go-rwx /autograder/results
