"""Static-check benchmark: wall time and peak RSS of `gasguard check
--sandbox off` on generated submissions with 10 MB, 1 GB and 4 GB of weights,
stored and deflated, against `unzip -l` (the floor) and the same checks
written in Python (zipfile + PyYAML + ast + safetensors header).

    cargo build --release && .venv/bin/python scripts/bench-static.py [--sizes 10M,1G,4G] [--runs 5]

Prints a table; numbers are medians. Run the real interpreter, not a shim.
"""
import argparse, json, os, pathlib, shutil, statistics, struct, subprocess, sys, tempfile, time, zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
GASGUARD = ROOT / "target/release/gasguard"
PY_CHECK = r'''
import ast, json, struct, sys, zipfile, yaml
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
cfg = yaml.safe_load(z.read("model_config.yaml"))
ast.parse(z.read("model.py"))
with z.open(cfg["model"].get("weights_file", "model.safetensors")) as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    total = 0
    for k, v in header.items():
        if k != "__metadata__":
            total = max(total, v["data_offsets"][1])
print(len(names), total)
'''

def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(s[:-1]) * mult[s[-1]]) if s[-1] in mult else int(s)

def make_weights(path, size):
    n = size // 4
    header = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, n * 4]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        chunk = bytes(1 << 24)
        left = n * 4
        while left:
            k = min(left, len(chunk))
            f.write(chunk[:k])
            left -= k

def make_zip(dest, example, weights, method):
    with zipfile.ZipFile(dest, "w", compression=method, compresslevel=1 if method == zipfile.ZIP_DEFLATED else None, allowZip64=True) as z:
        z.write(example / "model_config.yaml", "model_config.yaml")
        z.write(example / "model.py", "model.py")
        z.write(weights, "model.safetensors")

def measure(cmd, runs):
    """Median wall ms of direct runs, and peak RSS MiB measured by GNU time
    (a child forked from this Python process would report this process's RSS)."""
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t)
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rss = int(p.stderr.strip().splitlines()[-1]) / 1024
    return statistics.median(walls) * 1000, rss

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10M,1G,4G")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not GASGUARD.exists():
        sys.exit("build first: cargo build --release")
    example = ROOT / "examples/image"
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        tmp = pathlib.Path(tmp)
        print(f"{'weights':>8} {'method':>8} | {'gasguard ms':>11} {'MiB':>6} | {'unzip -l ms':>11} {'MiB':>6} | {'python ms':>9} {'MiB':>6} | {'vs unzip':>8} {'vs python':>9}")
        for size_s in args.sizes.split(","):
            size = parse_size(size_s)
            weights = tmp / "w.safetensors"
            make_weights(weights, size)
            for name, method in (("stored", zipfile.ZIP_STORED), ("deflated", zipfile.ZIP_DEFLATED)):
                z = tmp / f"{size_s}-{name}.zip"
                make_zip(z, example, weights, method)
                g = measure([str(GASGUARD), "check", "--sandbox", "off", "--format", "json", str(z)], args.runs)
                u = measure([shutil.which("unzip"), "-l", str(z)], args.runs)
                p = measure([sys.executable, "-c", PY_CHECK, str(z)], args.runs)
                print(f"{size_s:>8} {name:>8} | {g[0]:11.1f} {g[1]:6.1f} | {u[0]:11.1f} {u[1]:6.1f} | {p[0]:9.1f} {p[1]:6.1f} | {g[0]/u[0]:7.2f}x {p[0]/g[0]:8.1f}x", flush=True)
                z.unlink()
            weights.unlink()

main()
