#!/usr/bin/env bash
# The prepared GPU check (docs/performance.md): at most about 8 minutes on an H100/H200; writes
# <out>/gpu_check.json and <out>/gpu_check.md. `--dry-run` checks the arguments and prints the plan (CI).
#   bash scripts/gpu_check.sh [--out DIR] [--data-dir DIR] [--peer DIR] [--steps N] [--only STEP]... [--dry-run]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || { echo "gpu_check: no $PY: run bash scripts/setup.sh first (or set PY)" >&2; exit 2; }
exec "$PY" scripts/gpu_check.py "$@"
