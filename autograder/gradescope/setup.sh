#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04,
# system Python 3.10), with the whole zip already unpacked in /autograder/source.
#
# It creates the Python environment run_autograder uses: a virtual environment at
# /autograder/venv (Gradescope's own harness keeps the system python3 and its packages) with
# exactly what requirements/student.txt (what student code may import) and
# requirements/grader.txt (what the grader runs with) declare, at the versions constraints.txt
# pins, torch first in its CPU build. The kit itself is not pip-installed: run_autograder runs
# it from /autograder/source. It also creates the unprivileged user `student` that student code
# runs as, and makes the reference solution, the graders and the results readable by root only.
#
#   setup.sh                     everything, on Gradescope's image
#   setup.sh --environment-only  only the virtual environment, without the steps that need
#                                Gradescope's image (apt-get, the user, /autograder's modes);
#                                what tests/gradescope_env.py runs. Settings for it:
#     AUTOGRADER_VENV         where the environment goes (default /autograder/venv)
#     AUTOGRADER_BASE_PYTHON  the Python it is made from (default python3)
#     AUTOGRADER_TORCH_INDEX  the index torch comes from (default PyTorch's CPU index;
#                             empty: pip's own settings)
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${AUTOGRADER_VENV:-/autograder/venv}"
BASE_PYTHON="${AUTOGRADER_BASE_PYTHON:-python3}"
TORCH_INDEX="${AUTOGRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

system_packages() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip
}

python_environment() {
    "$BASE_PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --upgrade pip==24.0
    # torch first, at the version constraints.txt pins, in its CPU build: the default torch
    # wheel on Linux pulls several GB of CUDA libraries.
    if [[ -n "$TORCH_INDEX" ]]; then
        "$VENV/bin/python" -m pip install --index-url "$TORCH_INDEX" -c "$SOURCE/constraints.txt" torch
    else
        "$VENV/bin/python" -m pip install -c "$SOURCE/constraints.txt" torch
    fi
    # Then the declaration, each package at the version constraints.txt pins (torch is there already).
    "$VENV/bin/python" -m pip install -c "$SOURCE/constraints.txt" \
        -r "$SOURCE/requirements/student.txt" -r "$SOURCE/requirements/grader.txt"
    "$VENV/bin/python" -c 'import torch; print("torch", torch.__version__, "cuda:", torch.cuda.is_available())'
    # Everyone may use the environment (student code runs as another user).
    chmod -R a+rX "$VENV"
}

student_user_and_permissions() {
    # The unprivileged user that student code runs as (when run_autograder runs as root).
    if ! id -u student >/dev/null 2>&1; then
        adduser --disabled-password --gecos "" --no-create-home student
    fi
    # Everyone may read the engine; only root may read the reference solution, the graders and
    # the results.
    chmod -R a+rX "$SOURCE"
    chmod -R go-rwx "$SOURCE/solutions" "$SOURCE/autograder/graders"
    mkdir -p /autograder/results
    chmod -R go-rwx /autograder/results
}

case "${1:-}" in
    "")
        system_packages
        python_environment
        "$VENV/bin/python" -m compileall -q "$SOURCE/autograder"
        student_user_and_permissions
        ;;
    --environment-only)
        python_environment
        ;;
    *)
        echo "usage: setup.sh [--environment-only]" >&2
        exit 2
        ;;
esac
