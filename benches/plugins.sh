#!/usr/bin/env bash
# What plugins cost a check: median wall time of `gasguard check` on
# examples/image (static only) without a plugin, with the example budget
# plugin compiled (cache cold) and cached (warm), and, given a second
# binary built with --no-default-features, without the feature at all.
#   benches/plugins.sh [GASGUARD] [GASGUARD_WITHOUT_FEATURE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/gasguard}
without=${2:-}
runs=${3:-40}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
plugins/examples/build.sh "$out/plugins" >/dev/null
export GASGUARD_CACHE_DIR="$out/cache"
python3 - "$bin" "$without" "$runs" "$out" <<'PY'
import os, shutil, statistics, subprocess, sys, time
bin, without, runs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = ["check", "--sandbox", "off", "--no-config", "examples/image"]
plugin = ["--plugin", f"{out}/plugins/budget.wasm"]
def median_ms(cmd, before=None):
    times = []
    for _ in range(runs):
        if before: before()
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)
clear = lambda: shutil.rmtree(f"{out}/cache", ignore_errors=True)
rows = []
if without:
    rows.append(("built without the feature, no plugin", median_ms([without] + base)))
rows.append(("no plugin", median_ms([bin] + base)))
rows.append(("budget plugin, cache cold (compile)", median_ms([bin] + base + plugin, clear)))
median_ms([bin] + base + plugin)  # fill the cache
rows.append(("budget plugin, cache warm", median_ms([bin] + base + plugin)))
print(f"{'':40} median ms   min ms   ({runs} runs)")
for name, (med, low) in rows:
    print(f"{name:40} {med:9.1f} {low:8.1f}")
PY
