#!/usr/bin/env bash
# Create .venv and install ragqa with everything it needs, offline-safe models included.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [extra...]   (default: dev)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
extras=${1:-dev}
stamp=".venv/.ragqa-setup-$extras-$(sha1sum pyproject.toml | cut -c1-12)"
if [ -f "$stamp" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch that lies on this disk; an unpinned torch would pull CUDA (GBs).
.venv/bin/pip install -q "torch==2.13.0"
# llama-cpp-python compiles from source (about 5-8 minutes on 2 cores, once; pip caches it).
.venv/bin/pip install -q -e ".[$extras]"
touch "$stamp"
