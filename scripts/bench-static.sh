#!/usr/bin/env bash
# Static-check benchmark (see scripts/bench-static.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
cargo build --release --quiet
exec .venv/bin/python scripts/bench-static.py "$@"
