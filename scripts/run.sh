#!/usr/bin/env bash
# Set up (once) and serve ragqa on the bundled corpus and model at http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh model
export HF_HUB_OFFLINE=1
# Two glibc malloc arenas instead of up to 8 per core: the worker threads' arenas keep the
# memory they freed, which is most of what RSS gains under load (docs/RELIABILITY.md).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/ragqa serve "$@"
