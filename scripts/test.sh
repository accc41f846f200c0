#!/usr/bin/env bash
# Runs every test. Installs what the tests need first: the Python venv with
# the evaluator's libraries (cached in ./.venv), then the Rust test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
export GASGUARD_TEST_PYTHON="$PWD/.venv/bin/python"
cargo test --locked --all-targets
