#!/usr/bin/env bash
# Creates (or reuses) ./.venv with the evaluator's libraries pinned in
# python/requirements-eval.txt. Reused while that file is unchanged: the
# stamp records its hash. About 7 GB and 5 minutes the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
req=python/requirements-eval.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
test_req=python/requirements-test.txt
test_stamp=.venv/.requirements-test.sha256
# Test-only tools: added to the existing venv, stamped on their own.
install_test_requirements() {
  local want_test
  want_test=$(sha256sum "$test_req" | cut -d' ' -f1)
  if [ "$(cat "$test_stamp" 2>/dev/null)" != "$want_test" ]; then
    if grep -qv '^\s*\(#\|$\)' "$test_req"; then
      .venv/bin/python -m pip install --disable-pip-version-check -q -r "$test_req"
    fi
    echo "$want_test" > "$test_stamp"
  fi
}
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  install_test_requirements
  exit 0
fi
py=${GASGUARD_BOOTSTRAP_PYTHON:-}
if [ -z "$py" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then py=$candidate; break; fi
  done
fi
[ -n "$py" ] || { echo "setup-venv: no python3 found; install Python 3.11" >&2; exit 1; }
# Resolve a pyenv shim to the real interpreter.
py=$("$py" -c 'import sys; print(sys.executable)')
echo "setup-venv: creating .venv with $py and $req (first run: ~5 min, ~7 GB)" >&2
rm -rf .venv
"$py" -m venv .venv
.venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
.venv/bin/python -m pip install --disable-pip-version-check -q -r "$req"
echo "$want" > "$stamp"
rm -f "$test_stamp"
install_test_requirements
