"""The oracle's fork server: runs submissions the way the SN34 evaluator does
and records the forbidden things they do (docs/oracle.md has the definition).

Imports the evaluator's libraries once, then forks one child per program
(or per --per-child programs, run one after the other: faster, since forking
an interpreter that imported torch costs its page tables, and less isolated).
The child installs an audit hook and an import guard, imports model.py by
path, calls load_model(weights_path, **model_section) (with the evaluator's
num_classes-only fallback) and runs the forward pass three times on the
evaluator's input, as src/runtime/harness.py does. Every forbidden event is
recorded and then blocked: the hook raises, so the operation does not happen.

    python forkserver.py --jobs 2 --timeout 20 --per-child 1 --policy rules/sn34.yaml < programs.jsonl

Reads one JSON object per line on stdin ({"id", "dir", "model_section"}),
writes one JSON line per program on stdout as children finish:
{"id", "events": [{"kind", "event", "detail"}], "stage", "ok", "error",
"wall_ms"}. Run it confined (run.py starts it in fresh user, network and
mount namespaces); the hook is the measurement, the namespaces the safety net.
"""

import argparse
import gc
import json
import os
import selectors
import signal
import sys
import sysconfig
import time

MARKER = "GGORACLE"
MAX_EVENTS = 20

# Event names by kind. Process, network, file changes, signals and pickle
# lookups are forbidden whoever asks: nothing the evaluator's libraries do
# while loading and running a safetensors model needs them.
PROCESS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.startfile", "pty.spawn"}
NETWORK = {
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
    "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo", "urllib.Request", "http.client.connect",
    "http.client.send", "ftplib.connect", "smtplib.connect", "poplib.connect", "imaplib.open", "nntplib.connect",
    "telnetlib.Telnet.open", "webbrowser.open",
}  # fmt: skip
FILE_CHANGE = {
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink", "os.link", "os.truncate",
    "os.utime", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr", "os.mkfifo", "os.mknod",
    "shutil.rmtree", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move",
    "shutil.make_archive", "shutil.unpack_archive", "shutil.chown",
}  # fmt: skip
SIGNAL = {"os.kill", "os.killpg", "signal.pthread_kill"}
LISTING = {"os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.walk", "os.fwalk"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


# The code of this file: the hook, the recorder and the import guard sit
# between an event and the frame that caused it, however they are nested.
THIS_FILE = sys._getframe().f_code.co_filename


def caller_frame():
    """The nearest frame that is not the oracle's own."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == THIS_FILE:
        frame = frame.f_back
    return frame


class OracleBlocked(PermissionError):
    """Raised by the hook after recording a forbidden event (a PermissionError,
    so that library code handles it like a denied operation)."""


def library_roots():
    """Folders whose files the libraries may read and load: the interpreter's
    prefixes and its stdlib and site-packages folders (resolved)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths().get(key, ""))
    paths |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    return tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}))


# Read-only system locations libraries consult (CPU topology, shared data).
SYSTEM_READ_ROOTS = ("/proc/", "/sys/", "/dev/null", "/dev/urandom", "/dev/random", "/dev/shm/", "/usr/share/", "/usr/lib/", "/etc/ld.so")


# Under /proc, the process's own entries and the system-wide files libraries
# consult (cpuinfo, meminfo...), but not what holds secrets: environment
# variables, command lines, memory, and other processes.
PROC_SECRETS = ("environ", "cmdline", "mem", "auxv")


def proc_readable(real):
    parts = real.split("/")  # "", "proc", entry, ...
    entry = parts[2] if len(parts) > 2 else ""
    if entry.isdigit() and entry != str(os.getpid()):
        return False
    if entry in ("self", "thread-self") or entry.isdigit():
        return not (len(parts) > 3 and parts[3] in PROC_SECRETS) and not (len(parts) > 5 and parts[3] == "task" and parts[5] in PROC_SECRETS)
    return True


def blocked_modules(policy_path):
    import yaml

    with open(policy_path) as f:
        policy = yaml.safe_load(f)
    names = set()
    for group in policy["modules"]["blocked"]:
        names |= set(group["modules"])
    for entry in policy.get("submodules", {}).get("blocked", []):
        names.add(entry["name"])
    return names


def warm_up():
    """Imports the evaluator's libraries (and the lazily imported parts the
    programs touch), so that children only fork."""
    import dataclasses  # noqa: F401
    import functools  # noqa: F401
    import pathlib  # noqa: F401
    import typing  # noqa: F401

    import cv2  # noqa: F401
    import einops  # noqa: F401
    import numpy
    import numpy.ctypeslib  # noqa: F401
    import PIL.Image  # noqa: F401
    import safetensors.torch  # noqa: F401
    import timm
    import timm.models  # noqa: F401
    import torch
    import torch.hub  # noqa: F401
    import torch.nn  # noqa: F401
    import torch.utils.data  # noqa: F401
    import torchvision
    import torchvision.models  # noqa: F401
    import transformers

    transformers.AutoConfig, transformers.BertConfig  # noqa: B018 - resolve the lazy modules
    torch.set_num_threads(1)
    timm.create_model("test_vit", pretrained=False)
    torchvision.models.squeezenet1_1(weights=None)
    numpy.zeros(1)
    return torch


class Recorder:
    """The child's audit hook and import guard."""

    def __init__(self, folder, model_path, blocked, lib_roots):
        self.folder = os.path.realpath(folder) + os.sep
        self.model_path = model_path
        self.blocked = blocked
        self.read_roots = (*lib_roots, self.folder, *SYSTEM_READ_ROOTS)
        self.lib_roots = lib_roots
        self.model_globals = None
        self.events = []
        self.busy = False

    def is_model_frame(self, frame):
        return frame is not None and (frame.f_code.co_filename == self.model_path or (self.model_globals is not None and frame.f_globals is self.model_globals))

    def forbid(self, kind, event, detail):
        if len(self.events) < MAX_EVENTS:
            self.events.append({"kind": kind, "event": event, "detail": detail[:300]})
        raise OracleBlocked(f"{MARKER} oracle: {kind} blocked ({event})")

    def readable(self, path):
        try:
            real = os.path.realpath(os.fsdecode(os.fspath(path)))
        except (TypeError, ValueError):
            return True  # a file descriptor: opened earlier, judged then
        if real.startswith("/proc/"):
            return proc_readable(real)
        return (real + os.sep).startswith(self.read_roots) or real.startswith(self.read_roots)

    def hook(self, event, args):
        if self.busy or event == "sys._getframe":
            return
        self.busy = True
        try:
            self.judge(event, args)
        finally:
            self.busy = False

    def judge(self, event, args):
        if event in PROCESS:
            self.forbid("process", event, repr(args))
        elif event in NETWORK:
            self.forbid("network", event, repr(args))
        elif event in FILE_CHANGE:
            self.forbid("file-write", event, repr(args))
        elif event in SIGNAL:
            self.forbid("signal", event, repr(args))
        elif event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags > 0 and flags & WRITE_FLAGS)
            if writes:
                self.forbid("file-write", event, repr(args))
            if not self.readable(path):
                self.forbid("file-read", event, repr(args))
        elif event in LISTING:
            path = args[0] if args else None
            if path is not None and not isinstance(path, int) and not self.readable(os.path.dirname(os.fsdecode(path)) if event.startswith("glob") else path):
                self.forbid("file-read", event, repr(args))
        elif event == "pickle.find_class":
            self.forbid("unpickle", event, repr(args))
        elif event in ("marshal.loads", "marshal.load"):
            caller = caller_frame()
            if caller is None or not caller.f_code.co_filename.startswith("<frozen importlib"):
                self.forbid("unpickle", event, f"called from {caller.f_code.co_filename if caller else 'native code'}")
        elif event == "ctypes.dlopen":
            name = args[0]
            if not (isinstance(name, str) and os.path.isabs(name) and os.path.realpath(name).startswith(self.lib_roots)):
                self.forbid("native", event, repr(args))
        elif event == "compile":
            source, filename = args[0], args[1]
            if filename == self.model_path:
                return  # the import of model.py itself
            text = source if isinstance(source, str) else bytes(source).decode("latin-1") if isinstance(source, (bytes, bytearray)) else ""
            if MARKER in text or self.is_model_frame(caller_frame()):
                self.forbid("exec", event, repr(text[:200]))
        elif event == "exec":
            if self.is_model_frame(caller_frame()):
                self.forbid("exec", event, repr(args))
        elif event == "code.__new__":
            if self.is_model_frame(caller_frame()):
                self.forbid("exec", event, repr(args)[:200])

    def is_blocked(self, name):
        parts = name.split(".")
        return any(".".join(parts[: i + 1]) in self.blocked for i in range(len(parts)))



def guard_imports(slot):
    """Imports of blocked modules by model.py's own frames (modules the server
    already imported raise no audit event, so `__import__` and
    `importlib.import_module` are wrapped). `slot[0]` is the running
    program's Recorder, or None."""
    import builtins
    import importlib

    real_import, real_import_module = builtins.__import__, importlib.import_module

    def check(name, event):
        recorder = slot[0]
        if recorder is None or not recorder.is_blocked(name) or not recorder.is_model_frame(caller_frame()):
            return
        try:
            recorder.forbid("import", event, name)
        except OracleBlocked as e:
            raise ImportError(str(e), name=name) from None

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            check(name, "import")
        return real_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        if not name.startswith("."):
            check(name, "importlib.import_module")
        return real_import_module(name, package)

    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module


def run_program(program, recorder_slot, blocked, lib_roots):
    """Runs one program as the evaluator would; returns its result."""
    import importlib.util
    import inspect

    import torch

    result = {"id": program["id"], "stage": "start", "ok": False, "events": []}
    folder = os.path.realpath(program["dir"])
    model_path = os.path.join(folder, "model.py")
    weights = os.path.join(folder, "model.safetensors")
    recorder = Recorder(folder, model_path, blocked, lib_roots)
    recorder_slot[0] = recorder
    try:
        os.chdir(folder)
        result["stage"] = "import-model"
        spec = importlib.util.spec_from_file_location("custom_model", model_path)
        module = importlib.util.module_from_spec(spec)
        recorder.model_globals = module.__dict__
        sys.modules["custom_model"] = module
        spec.loader.exec_module(module)
        result["stage"] = "load"
        kwargs = dict(program["model_section"])
        signature = inspect.signature(module.load_model)
        try:
            signature.bind(weights, **kwargs)
        except TypeError:
            kwargs = {"num_classes": kwargs.get("num_classes", 2)}
        model = module.load_model(weights, **kwargs)
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"load_model() returned {type(model).__name__}")
        model = model.to(device="cpu", dtype=torch.float32).eval()
        result["stage"] = "forward"
        generator = torch.Generator().manual_seed(34)
        x = torch.randint(0, 256, [2, 3, 32, 32], dtype=torch.uint8, generator=generator)
        with torch.no_grad():
            model(x)
            model(x)
            model(x[:1])
        result["stage"] = "done"
        result["ok"] = True
    except BaseException as e:  # noqa: BLE001 - the program's failure is data
        result["error"] = f"{type(e).__name__}: {e}"[:500]
    # Stop judging: the result goes out on an inherited pipe.
    recorder_slot[0] = None
    result["events"] = recorder.events
    sys.modules.pop("custom_model", None)
    return result


def run_child(batch, blocked, lib_roots, out_fd):
    """In the forked child: run the batch's programs one after the other, one
    result line each, and exit. The hook and the import guard are installed
    once and judge for the program that is running."""
    slot = [None]

    def hook(event, args):
        recorder = slot[0]
        if recorder is not None:
            recorder.hook(event, args)

    guard_imports(slot)
    sys.addaudithook(hook)
    for program in batch:
        data = (json.dumps(run_program(program, slot, blocked, lib_roots), default=str) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(out_fd, view) :]
    os._exit(0)


def serve(batches, jobs, timeout, blocked, lib_roots, emit):
    """Forks one child per batch, at most `jobs` at once. A child that times
    out or dies loses the program it was running (reported as such); the
    rest of its batch runs again, one program per child."""
    devnull = os.open(os.devnull, os.O_RDWR)
    selector = selectors.DefaultSelector()
    running = {}  # pid -> {"batch", "fd", "since", "buf", "done"}
    pending = list(reversed(batches))

    def take_lines(child):
        *lines, child["buf"] = child["buf"].split(b"\n")
        for line in lines:
            result = json.loads(line.decode())
            child["done"].add(result["id"])
            child["since"] = time.monotonic()
            result["wall_ms"] = round((child["since"] - child["last"]) * 1000, 1)
            child["last"] = child["since"]
            emit(result)

    def finish(pid, note):
        child = running.pop(pid)
        selector.unregister(child["fd"])
        while chunk := os.read(child["fd"], 1 << 16):
            child["buf"] += chunk
        os.close(child["fd"])
        take_lines(child)
        left = [p for p in child["batch"] if p["id"] not in child["done"]]
        if left and note:
            stage = "timeout" if note.startswith("timeout") else "crashed"
            emit({"id": left[0]["id"], "stage": stage, "ok": False, "events": [], "error": note, "wall_ms": round((time.monotonic() - child["last"]) * 1000, 1)})
            pending.extend([p] for p in reversed(left[1:]))
        elif left:
            for p in left:
                emit({"id": p["id"], "stage": "crashed", "ok": False, "events": [], "error": "the child exited without a result"})

    while pending or running:
        while pending and len(running) < jobs:
            batch = pending.pop()
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(r)
                    for child in running.values():
                        os.close(child["fd"])
                    os.dup2(devnull, 0)
                    os.dup2(devnull, 1)
                    os.dup2(devnull, 2)
                    run_child(batch, blocked, lib_roots, w)
                finally:
                    os._exit(3)
            os.close(w)
            now = time.monotonic()
            running[pid] = {"batch": batch, "fd": r, "since": now, "last": now, "buf": b"", "done": set()}
            selector.register(r, selectors.EVENT_READ, pid)
        for key, _ in selector.select(timeout=0.05):
            chunk = os.read(key.fd, 1 << 16)
            if chunk:
                running[key.data]["buf"] += chunk
                take_lines(running[key.data])
        while running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in running:
                clean = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
                finish(pid, None if clean else f"the child died (status {status})")
        now = time.monotonic()
        for pid in [p for p, c in running.items() if now - c["since"] > timeout]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            finish(pid, f"timeout after {timeout}s")


def make_read_only():
    """In a private mount namespace: every mount read-only, and a fresh small
    tmpfs over /dev/shm as the only writable place (TMPDIR: torch needs a
    usable temporary folder to import; the hook still forbids the programs
    to write there). Returns how many mounts were made read-only; the root
    must be."""
    import subprocess

    with open("/proc/self/mountinfo") as f:
        targets = sorted({line.split()[4] for line in f}, key=lambda t: t.count("/"))
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    done = 0
    for target in targets:
        r = subprocess.run(["mount", "-o", "remount,bind,ro", target], capture_output=True)
        done += r.returncode == 0
        if target == "/" and r.returncode != 0:
            raise SystemExit(f"forkserver: cannot make / read-only: {r.stderr.decode(errors='replace').strip()}")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "oracle-tmp", "/dev/shm"], check=True)
    os.environ["TMPDIR"] = "/dev/shm"
    return done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--per-child", type=int, default=1, help="programs run one after the other in one child (1: a fresh fork for each)")
    ap.add_argument("--read-only", action="store_true", help="make every mount read-only first (inside `unshare --mount`)")
    args = ap.parse_args()
    programs = [json.loads(line) for line in sys.stdin if line.strip()]
    blocked = blocked_modules(args.policy)
    read_only = make_read_only() if args.read_only else 0
    t0 = time.monotonic()
    warm_up()
    lib_roots = library_roots()
    # Children would otherwise run full collections over the ~300,000 objects
    # the libraries created, touching (and copying) every page: 1 s a child.
    gc.collect()
    gc.freeze()
    warm_s = time.monotonic() - t0
    out = sys.stdout

    def emit(result):
        out.write(json.dumps(result) + "\n")
        out.flush()

    t1 = time.monotonic()
    size = max(1, args.per_child)
    batches = [programs[i : i + size] for i in range(0, len(programs), size)]
    serve(batches, max(1, args.jobs), args.timeout, blocked, lib_roots, emit)
    emit({"server": {"warm_up_s": round(warm_s, 2), "run_s": round(time.monotonic() - t1, 2), "programs": len(programs), "jobs": args.jobs, "per_child": size, "read_only_mounts": read_only}})


if __name__ == "__main__":
    main()
