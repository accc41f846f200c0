"""Runtime-stage benchmark: the same harness on the same model, sandboxed
(`gasguard sandbox`, whose own timing of the sandboxed child is reported as
runtime.wall_ms) and unsandboxed (the embedded harness run directly with the
same interpreter and config), for the three examples and a ResNet-50-sized
timm model. Prints medians of wall time and the harness's peak RSS, and
the sandbox's setup time (gasguard's spawn of the trampoline to the
harness's first line running in the interpreter: namespaces, cgroup,
supervisor, mounts, Landlock, seccomp and the observer's handoff, plus the
interpreter's own start, which the unsandboxed run pays too).

    cargo build --release && .venv/bin/python scripts/bench-runtime.py [--runs 3]
"""
import argparse, json, os, pathlib, shutil, statistics, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
GASGUARD = ROOT / "target/release/gasguard"
PY = str(ROOT / ".venv/bin/python")

RESNET50 = '''import timm
import torch
from safetensors.torch import load_file


class Detector(torch.nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.net = timm.create_model("resnet50", pretrained=False, num_classes=num_classes)

    def forward(self, x):
        return self.net(x.float() / 255.0)


def load_model(weights_path, num_classes=2):
    model = Detector(num_classes)
    model.load_state_dict(load_file(weights_path))
    return model.eval()
'''


def make_resnet50(folder):
    folder.mkdir()
    (folder / "model.py").write_text(RESNET50)
    (folder / "model_config.yaml").write_text('name: "r50"\nversion: "1"\nmodality: image\npreprocessing: {resize: [224, 224]}\nmodel: {num_classes: 2}\n')
    code = "import timm, torch; from safetensors.torch import save_file; m = timm.create_model('resnet50', pretrained=False, num_classes=2); save_file({'net.' + k: v.contiguous() for k, v in m.state_dict().items()}, %r)" % str(folder / "model.safetensors")
    subprocess.run([PY, "-c", code], check=True)


def sandboxed(folder):
    out = subprocess.run([str(GASGUARD), "sandbox", "--format", "json", "--python", PY, str(folder)], capture_output=True, text=True)
    report = json.loads(out.stdout)
    rt = report["submissions"][0]["runtime"]
    assert (rt["result"] or {}).get("ok"), report
    return rt["wall_ms"], (rt["result"] or {}).get("peak_rss_mb", 0.0), rt.get("setup_ms") or 0.0


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def unsandboxed(folder, harness, scratch):
    report = json.loads(subprocess.run([str(GASGUARD), "check", "--sandbox", "off", "--format", "json", str(folder)], capture_output=True, text=True).stdout)
    facts = report["submissions"][0]["config"]
    config = {
        "submission": str(folder), "weights": str(folder / facts["weights_file"]),
        "model_kwargs": {"num_classes": facts["num_classes"]}, "modality": facts["modality"],
        "input_shape": facts["input_shape"], "dtype": facts["dtype"], "num_classes": facts["num_classes"],
        "device": "cpu", "scratch": str(scratch), "threads": min(os.cpu_count() or 1, 4),
    }
    r, w = os.pipe()
    saved = os.dup(3) if _fd_open(3) else None
    os.dup2(w, 3, inheritable=True)
    t = time.perf_counter()
    p = subprocess.Popen([PY, "-I", "-B", "-c", harness, json.dumps(config)], pass_fds=(3,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    if saved is None:
        os.close(3)
    else:
        os.dup2(saved, 3)
        os.close(saved)
    data = os.read(r, 1 << 20)
    p.wait()
    wall = (time.perf_counter() - t) * 1000
    os.close(r)
    result = json.loads(data or b"{}")
    assert result.get("ok"), result
    return wall, result.get("peak_rss_mb", 0.0)


def main():
    global GASGUARD
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gasguard", default=None, help="the binary to measure (default: the release build)")
    args = ap.parse_args()
    if args.gasguard:
        GASGUARD = pathlib.Path(args.gasguard)
    harness = subprocess.run([str(GASGUARD), "__harness"], capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        r50 = tmp / "resnet50"
        make_resnet50(r50)
        subjects = [("image", ROOT / "examples/image"), ("video", ROOT / "examples/video"), ("audio", ROOT / "examples/audio"), ("timm resnet50", r50)]
        print(f"{'model':>14} | {'unsandboxed ms':>14} {'MiB':>6} | {'sandboxed ms':>12} {'MiB':>6} | {'overhead ms':>11} {'%':>6} | {'setup ms':>8}")
        for name, folder in subjects:
            u = [unsandboxed(folder, harness, tmp) for _ in range(args.runs)]
            s = [sandboxed(folder) for _ in range(args.runs)]
            uw, sw = statistics.median(x[0] for x in u), statistics.median(x[0] for x in s)
            setup = statistics.median(x[2] for x in s)
            print(f"{name:>14} | {uw:14.0f} {max(x[1] for x in u):6.0f} | {sw:12.0f} {max(x[1] for x in s):6.0f} | {sw - uw:11.0f} {100 * (sw - uw) / uw:5.1f}% | {setup:8.0f}", flush=True)


main()
