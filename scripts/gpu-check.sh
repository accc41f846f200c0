#!/usr/bin/env bash
# GPU check of the `--device cuda` profile, for a machine with an NVIDIA GPU
# (not run in CI: CI has none). Builds gasguard, then for each example runs
# `gasguard sandbox --device cuda` and expects it accepted with the forward
# pass on the GPU, and runs two hostile models expecting them refused: a
# memfd executed as a program, and a read of /sys outside what CUDA needs.
# Prints one line per case and exits non-zero if any case failed.
#
#   scripts/gpu-check.sh [PYTHON]    # PYTHON: an interpreter with CUDA torch
set -uo pipefail
cd "$(dirname "$0")/.."
py=${1:-${GASGUARD_PYTHON:-.venv/bin/python}}
"$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || {
  echo "gpu-check: torch.cuda.is_available() is false for $py" >&2; exit 2; }
cargo build --release --locked -q || exit 2
gg=target/release/gasguard
fail=0
report() { # NAME EXPECTED_EXIT ACTUAL_EXIT JSON_FILE
  local verdict=ok
  [ "$2" = "$3" ] || { verdict=FAIL; fail=1; }
  echo "$verdict $1: exit $3 (expected $2)"
  [ "$verdict" = ok ] || head -c 4000 "$4"
}
out=$(mktemp -d)
for ex in image video audio; do
  "$gg" sandbox --device cuda --python "$py" --format json "examples/$ex" > "$out/$ex.json"
  report "example $ex on cuda" 0 $? "$out/$ex.json"
  grep -q '"relaxed"' "$out/$ex.json" || { echo "FAIL $ex: no relaxations listed"; fail=1; }
done
hostile() { # NAME BODY-OF-LOAD_MODEL
  local dir="$out/$1"
  cp -r examples/image "$dir"
  { sed '/^def load_model/,$d' examples/image/model.py
    printf 'def load_model(weights_path, num_classes=2):\n'
    printf '%s\n' "$2" | sed 's/^/    /'
    printf '    raise RuntimeError("the attempt was not stopped")\n'; } > "$dir/model.py"
  "$gg" sandbox --device cuda --python "$py" --format json "$dir" > "$out/$1.json"
  report "hostile $1" 1 $? "$out/$1.json"
}
hostile memfd-exec "import os, sys
fd = os.memfd_create('p', 8)
os.write(fd, open(sys.executable, 'rb').read())
os.execv(f'/proc/self/fd/{fd}', ['p', '-c', 'pass'])"
hostile sys-read "import os
print(os.listdir('/sys/class/net'))"
rm -rf "$out"
exit $fail
