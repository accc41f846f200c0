#!/usr/bin/env bash
# Runs every test. Installs what the tests need first: the Python venv with
# the evaluator's libraries (cached in ./.venv) and cargo-fuzz; then the Rust
# test suite (unit, integration, sandbox escape and differential tests), then
# every fuzz target for a short fixed budget over the seeds and the saved
# regression inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
# Every crate in Cargo.lock, other platforms' too: the wheel test runs
# maturin offline, and `cargo metadata` wants them all (wasmtime's macOS
# dependencies, say).
cargo fetch --locked
export GASGUARD_TEST_PYTHON="$PWD/.venv/bin/python"
# A cold build on two cores: line tables are enough for a test's backtrace
# (full debug info made every test binary 200-400 MB to write and link), and
# incremental caches are never reused on a fresh clone.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
cargo test --locked --all-targets
scripts/fuzz.sh "${GASGUARD_FUZZ_SECONDS:-30}"
