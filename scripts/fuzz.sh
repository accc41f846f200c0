#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, seeded with the
# fixtures and replaying fuzz/regressions/TARGET first. Needs cargo-fuzz
# (installed here if missing) and the test venv (for the seed archives).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(zip_intake config python safetensors policy check zip_structured config_structured)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
export RUSTC_BOOTSTRAP=1  # cargo-fuzz passes nightly flags; stable 1.95 accepts them so

seed() {  # seed TARGET FILES...
  local dir="fuzz/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do cp -f "$f" "$dir/$(sha256sum "$f" | cut -c1-16)" 2>/dev/null || true; done
}
seed config fixtures/config/*/*.yaml examples/*/model_config.yaml
seed python fixtures/python/*/*.py examples/*/model.py
seed safetensors examples/*/model.safetensors
seed policy rules/sn34.yaml
mkdir -p fuzz/corpus/zip_intake fuzz/corpus/check fuzz/corpus/zip_structured fuzz/corpus/config_structured
.venv/bin/python - <<'PY'
import pathlib, zipfile
for target in ("zip_intake", "check"):
    out = pathlib.Path("fuzz/corpus") / target
    for m in ("image", "video", "audio"):
        for method, tag in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")):
            with zipfile.ZipFile(out / f"{m}-{tag}.zip", "w", method) as z:
                for f in sorted(pathlib.Path("examples", m).iterdir()):
                    if f.is_file():
                        z.write(f, f.name)
PY

mkdir -p fuzz/logs
for t in "${targets[@]}"; do
  log="fuzz/logs/$t.log"
  if ! cargo fuzz run --fuzz-dir fuzz --sanitizer none "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
      -max_total_time="$seconds" -timeout="${GASGUARD_FUZZ_TIMEOUT:-2}" -rss_limit_mb="${GASGUARD_FUZZ_RSS_MB:-256}" -print_final_stats=1 > "$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $t failed: the input is in fuzz/artifacts/$t; add it to fuzz/regressions/$t with a fix" >&2
    exit 1
  fi
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  rss=$(grep -oE "stat::peak_rss_mb: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
  echo "fuzz: $t: ${seconds}s, $runs executions, corpus $corpus, peak RSS ${rss} MB, no failure"
done
