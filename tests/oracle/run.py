#!/usr/bin/env python3
"""The static-analysis oracle: no program gasguard accepts does anything forbidden.

Generates N programs (tests/oracle/generate.py: dangerous programs and their
benign twins), asks gasguard for each one's static verdict
(`check --sandbox off --format json`, in batches), runs every program in the
fork server (tests/oracle/forkserver.py, confined in fresh user, network and
mount namespaces) and reports:

    soundness   programs statically ACCEPTED that recorded a forbidden event (must be 0)
    precision   benign twins accepted / benign twins (target >= 95%)
    generator   dangerous programs that did nothing forbidden, and benign twins
                that did something (bugs in the generator: not counted)

    run.py --n 10000 --seed 1 --jobs 2 --gasguard target/release/gasguard
    run.py --n 0 --matrix                  # every binding x use form, one source
    run.py --n 400 --keep /tmp/oracle      # keep the programs to read them

Exit status: 0 when soundness holds, precision reaches --min-precision and the
generator has no bugs; 1 otherwise; 2 on a usage or setup error.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import generate  # noqa: E402

DIMENSIONS = ("set", "class", "source", "binding", "passing", "use", "location")


def fail(message):
    print(f"oracle: error: {message}", file=sys.stderr)
    sys.exit(2)


def static_verdicts(gasguard, programs, out_dir, jobs, batch):
    """{program id: (accepted, [error codes, and P115 when warned])} from gasguard's JSON report."""

    def check(chunk):
        paths = [os.path.join(out_dir, p["id"]) for p in chunk]
        proc = subprocess.run([gasguard, "check", *paths, "--sandbox", "off", "--format", "json"], capture_output=True, env={**os.environ, "NO_COLOR": "1"})
        if proc.returncode not in (0, 1):
            fail(f"gasguard check exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
        report = json.loads(proc.stdout)
        found = {}
        for sub in report["submissions"]:
            errors = [d["code"] for d in sub["diagnostics"] if d["severity"] == "error"]
            # P115 is a warning but flags a possible download (warned_network).
            errors += [d["code"] for d in sub["diagnostics"] if d["code"] == "P115" and d["severity"] != "error"][:1]
            found[os.path.basename(sub["path"].rstrip("/"))] = (sub["verdict"] == "accept", errors)
        return found

    chunks = [programs[i : i + batch] for i in range(0, len(programs), batch)]
    verdicts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for found in pool.map(check, chunks):
            verdicts.update(found)
    missing = [p["id"] for p in programs if p["id"] not in verdicts]
    if missing:
        fail(f"gasguard's report has no verdict for {len(missing)} programs ({missing[:3]}...)")
    return verdicts


LIBRARY_SWITCHES = {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_DISABLE_IMPLICIT_TOKEN"}

CONFINE = [
    # A user namespace (so this works unprivileged too), a network namespace
    # with only a down loopback, and a mount namespace in which the server
    # makes every mount read-only before it imports anything.
    "unshare",
    "--user",
    "--map-root-user",
    "--net",
    "--mount",
    "--",
]


def runtime_results(python, programs, out_dir, jobs, timeout, confine, per_child):
    lines = [json.dumps({"id": p["id"], "dir": os.path.join(out_dir, p["id"]), "model_section": p["model_section"]}) for p in programs]
    cmd = [python, os.path.join(HERE, "forkserver.py"), "--jobs", str(jobs), "--timeout", str(timeout), "--per-child", str(per_child), "--policy", os.path.join(REPO, "rules", "sn34.yaml")]
    if confine:
        if shutil.which("unshare") is None:
            fail("`unshare` (util-linux) is needed to confine the fork server; install it, or pass --no-confine on a machine you do not mind")
        cmd = [*CONFINE, *cmd, "--read-only"]
    # Libraries' offline switches and tokens would turn a download attempt
    # into a silent no-op on some machines: the programs run as the evaluator
    # would, with none of them set.
    env = {k: v for k, v in os.environ.items() if k not in LIBRARY_SWITCHES}
    proc = subprocess.run(cmd, input="\n".join(lines).encode(), capture_output=True, env=env)
    results, server = {}, None
    for line in proc.stdout.decode(errors="replace").splitlines():
        item = json.loads(line)
        if "server" in item:
            server = item["server"]
        else:
            results[item["id"]] = item
    if proc.returncode != 0 or server is None:
        fail(f"fork server failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-3000:]}")
    return results, server


def warned_network(program, codes):
    """The issue's own carve-out: where a call can only reach the network and
    the deciding value cannot be proven, gasguard warns (P115) and leaves the
    verdict to the sandbox run. Such a program is flagged, not waved through,
    so its network-class events are not soundness violations. Every other
    effect (process, exec, file, unpickle, native, import) still counts."""
    return program.get("effect") == "network" and "P115" in codes


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "    -"


def table(rows, dimension):
    stats = collections.defaultdict(lambda: collections.Counter())
    for r in rows:
        s = stats[r[dimension]]
        if r["kind"] == "danger":
            s["danger"] += 1
            s["effective"] += bool(r["events"])
            s["violations"] += r["violation"]
        else:
            s["benign"] += 1
            s["benign_clean"] += not r["events"]
            s["benign_accepted"] += r["accepted"] and not r["events"]
    width = max([len(dimension), *(len(str(k)) for k in stats)])
    out = [f"{dimension:<{width}}  danger  effective  violations  benign  accepted  precision"]
    for key in sorted(stats):
        s = stats[key]
        out.append(f"{key:<{width}}  {s['danger']:6d}  {s['effective']:9d}  {s['violations']:10d}  {s['benign_clean']:6d}  {s['benign_accepted']:8d}  {pct(s['benign_accepted'], s['benign_clean'])}")
    return out


def show(row, out_dir):
    with open(os.path.join(out_dir, row["id"], "model.py")) as f:
        source = f.read()
    events = "\n".join(f"  {e['kind']}: {e['event']} {e['detail'][:160]}" for e in row["events"][:5])
    return f"--- {row['id']} ({row['kind']}, static: {'accepted' if row['accepted'] else 'rejected ' + ','.join(row['codes'])}, runtime stage {row['stage']})\nforbidden events:\n{events}\n{source}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="programs to generate (dangerous + benign twins)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--matrix", action="store_true", help="also every binding form x the matrix use forms, for one source")
    ap.add_argument("--matrix-uses", default=",".join(generate.MATRIX_USES), help="use forms of the matrix (comma-separated; 'all' for every one)")
    ap.add_argument("--sources", default="", help="only these sources: comma-separated name prefixes or classes (see tests/oracle/sources.py)")
    ap.add_argument("--controls", action="store_true", help="also the control programs that check the event definition itself")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", metavar="DIR", help="write the programs here and keep them (default: a temporary folder)")
    ap.add_argument("--gasguard", default=None, help="the gasguard binary (default: target/release/gasguard, else target/debug/gasguard)")
    ap.add_argument("--python", default=None, help="the evaluator's interpreter (default: $GASGUARD_TEST_PYTHON, else .venv/bin/python)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per program")
    ap.add_argument("--per-child", type=int, default=8, help="programs one forked child runs one after the other (1: a fresh fork for each, slower; see docs/oracle.md)")
    ap.add_argument("--batch", type=int, default=256, help="submissions per gasguard invocation")
    ap.add_argument("--min-precision", type=float, default=95.0)
    ap.add_argument("--show", type=int, default=3, help="offending programs to print in full")
    ap.add_argument("--summary", metavar="FILE", help="also write the numbers as JSON")
    ap.add_argument("--results", metavar="FILE", help="also write one JSON line per program (dimensions, verdict, events)")
    ap.add_argument("--no-confine", action="store_true", help="run the fork server without namespaces (the audit hook still blocks)")
    args = ap.parse_args()

    gasguard = args.gasguard or next((p for p in (os.path.join(REPO, "target", k, "gasguard") for k in ("release", "debug")) if os.path.exists(p)), None)
    if not gasguard or not os.path.exists(gasguard):
        fail("no gasguard binary: build it (cargo build --release) or pass --gasguard")
    python = args.python or os.environ.get("GASGUARD_TEST_PYTHON") or os.path.join(REPO, ".venv", "bin", "python")
    if not os.path.exists(python):
        fail(f"no evaluator interpreter at {python}: run scripts/setup-venv.sh or pass --python")

    tmp = None
    if args.keep:
        out_dir = os.path.abspath(args.keep)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="gasguard-oracle-")
        out_dir = tmp.name
    try:
        t0 = time.monotonic()
        uses = (sorted(generate.USES) if args.matrix_uses == "all" else args.matrix_uses.split(",")) if args.matrix else ()
        unknown = [u for u in uses if u not in generate.USES]
        if unknown:
            fail(f"unknown use forms {unknown}; known: {', '.join(sorted(generate.USES))}")
        programs = generate.generate(out_dir, args.n, args.seed, uses, generate.pick_sources(args.sources), args.controls)
        t1 = time.monotonic()
        verdicts = static_verdicts(gasguard, programs, out_dir, args.jobs, args.batch)
        t2 = time.monotonic()
        results, server = runtime_results(python, programs, out_dir, args.jobs, args.timeout, not args.no_confine, args.per_child)
        t3 = time.monotonic()
        return report(args, programs, verdicts, results, server, out_dir, (t1 - t0, t2 - t1, t3 - t2))
    finally:
        if tmp is not None:
            tmp.cleanup()


def numbers(rows):
    benign = [r for r in rows if r["kind"] == "benign" and not r["events"]]
    accepted = sum(r["accepted"] for r in benign)
    return {
        "programs": len(rows),
        "soundness_violations": sum(r["violation"] for r in rows),
        "precision": round(100.0 * accepted / len(benign), 2) if benign else None,
        "generator_bugs": sum(bool(r["events"]) != (r["kind"] == "danger") for r in rows),
    }


def check_controls(rows):
    """Control programs whose recorded kinds differ from the expected ones."""
    bad = []
    for r in rows:
        got = sorted({e["kind"] for e in r["events"]})
        if got != sorted(r["expected"]):
            bad.append(f"control {r['source']}: expected {sorted(r['expected'])}, recorded {got} ({r['stage']}: {r['error']})")
    return bad


def report(args, programs, verdicts, results, server, out_dir, times):
    rows = []
    for p in programs:
        accepted, codes = verdicts[p["id"]]
        res = results.get(p["id"], {"events": [], "stage": "missing", "ok": False, "error": "no runtime result"})
        rows.append({**p, "accepted": accepted, "codes": codes, "events": res["events"], "stage": res["stage"], "ok": res["ok"], "error": res.get("error"), "violation": accepted and bool(res["events"]) and not warned_network(p, codes)})
    control_failures = check_controls([r for r in rows if r["kind"] == "control"])
    rows = [r for r in rows if r["kind"] != "control"]
    violations = [r for r in rows if r["violation"]]
    inert = [r for r in rows if r["kind"] == "danger" and not r["events"]]
    noisy = [r for r in rows if r["kind"] == "benign" and r["events"]]
    benign = [r for r in rows if r["kind"] == "benign" and not r["events"]]
    benign_accepted = [r for r in benign if r["accepted"]]
    dangerous = [r for r in rows if r["kind"] == "danger" and r["events"]]
    precision = 100.0 * len(benign_accepted) / len(benign) if benign else 0.0
    by_class = collections.Counter(r["class"] for r in violations)

    for dim in DIMENSIONS:
        print("\n".join(table(rows, dim)))
        print()
    for title, group in (("soundness violations (accepted, yet did something forbidden)", violations), ("generator bugs: dangerous programs that did nothing forbidden", inert), ("generator bugs: benign twins that did something forbidden", noisy)):
        if group:
            print(f"== {title}: {len(group)}")
            for r in group[: args.show]:
                print(show(r, out_dir))
            if len(group) > args.show:
                print(f"... and {len(group) - args.show} more: {', '.join(r['id'] for r in group[args.show : args.show + 20])}")
            print()
    if control_failures:
        print(f"== oracle bugs: control programs that recorded other events than expected: {len(control_failures)}")
        print("\n".join(control_failures))
        print()
    rejected_benign = [r for r in benign if not r["accepted"]]
    if rejected_benign:
        codes = collections.Counter(c for r in rejected_benign for c in set(r["codes"]))
        print(f"benign twins rejected, by code: {dict(codes.most_common())}")
    load_failures = collections.Counter(r["stage"] for r in benign if not r["ok"])
    if load_failures:
        print(f"benign twins that did not load and run (informational): {dict(load_failures)}")
    gen_s, static_s, runtime_s = times
    print(f"time: generate {gen_s:.1f}s, static {static_s:.1f}s, runtime {runtime_s:.1f}s (fork server warm-up {server['warm_up_s']}s, {len(rows) / max(server['run_s'], 1e-9):.0f} programs/s with {server['jobs']} jobs)")
    summary = {
        "by_set": {name: numbers([r for r in rows if r["set"] == name]) for name in sorted({r["set"] for r in rows})},
        "programs": len(rows),
        "dangerous": len(dangerous),
        "benign": len(benign),
        "soundness_violations": len(violations),
        "violations_by_class": dict(by_class),
        "precision": round(precision, 2),
        "generator_inert_dangerous": len(inert),
        "generator_noisy_benign": len(noisy),
        "control_failures": control_failures,
        "violation_ids": [r["id"] for r in violations],
        "times_s": {"generate": round(gen_s, 2), "static": round(static_s, 2), "runtime": round(runtime_s, 2), **server},
    }
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    if args.results:
        with open(args.results, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    controls = f", control failures {len(control_failures)}" if args.controls else ""
    print(f"oracle: {len(rows)} programs, soundness violations {len(violations)}, precision {precision:.1f}%, generator bugs {len(inert) + len(noisy)}{controls}")
    ok = not violations and precision >= args.min_precision and not inert and not noisy and not control_failures
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
