#!/usr/bin/env bash
# Set up (once) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
# The browser tests drive Debian's Chromium (never `playwright install`); without it they skip.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
      || echo "could not install chromium: the browser tests will be skipped"
  else
    echo "/usr/bin/chromium is missing (apt-get install chromium, as root): the browser tests will be skipped"
  fi
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check app tests scripts bench
.venv/bin/mypy
exec .venv/bin/pytest -q "$@"
