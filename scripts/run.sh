#!/usr/bin/env bash
# Set up (once) and serve ragqa on the bundled corpus and model at http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh model
export HF_HUB_OFFLINE=1
exec .venv/bin/ragqa serve "$@"
