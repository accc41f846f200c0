# gasguard runtime harness: runs a submission the way the SN34 evaluator does
# and writes one JSON result to file descriptor 3. Embedded in the gasguard
# binary and passed with -c; runs inside the sandbox. The model's code shares
# this process, so everything written here is the model's word: the parent
# treats it as untrusted input and takes security verdicts from the kernel
# and its supervisor. The audit hook below only adds hints to those.
import json
import os
import sys
import time
import traceback

RESULT_FD = 3
# Stage marks to gasguard's supervisor (outside this process). The mark
# before model.py is imported turns its recording on; the model's code runs
# only after it, so it cannot delay or suppress it.
STAGE_FD = 4
# Libraries load their own native extensions (torchvision's _C.so...):
# only native code from elsewhere is worth reporting.
LIBRARY_PREFIXES = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, *sys.path} if p and os.path.isdir(p))
MAX_EVENTS = 50
config = json.loads(sys.argv[1])
result = {"stage": "start", "ok": False, "events": []}
recording = [False]


def mark(stage):
    try:
        os.write(STAGE_FD, stage.encode() + b"\n")
    except OSError:
        pass


mark("start")


def emit():
    data = memoryview(json.dumps(result, default=str).encode()[: 1 << 20])
    # A write to a pipe may be partial (a signal while the pipe is full):
    # write the rest until all of it is out.
    try:
        while data:
            data = data[os.write(RESULT_FD, data):]
    except OSError:
        pass


def audit(event, args):
    # Only what the model does is of interest: the hook records from the
    # moment model.py is imported. Exceptions here would abort the operation.
    if not recording[0] or len(result["events"]) >= MAX_EVENTS:
        return
    try:
        if event == "socket.__new__":
            result["events"].append({"kind": "network", "detail": f"socket(family={args[1]!r}, type={args[2]!r})"[:300]})
        elif event == "socket.connect" or event == "socket.bind" or event == "socket.sendto":
            result["events"].append({"kind": "network", "detail": f"{event} {args[1]!r}"[:300]})
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty"):
            result["events"].append({"kind": "process", "detail": f"{event} {args[0]!r}"[:300] if args else event})
        elif event == "open":
            path, mode, flags = args[0], args[1], args[2]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writes and isinstance(path, (str, bytes)) and not os.path.realpath(os.fsdecode(path)).startswith(config["scratch"]):
                result["events"].append({"kind": "file-write", "detail": str(path)[:300]})
        elif event in ("os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.chmod", "os.symlink", "os.link"):
            target = args[0]
            if isinstance(target, (str, bytes)) and os.path.realpath(os.fsdecode(target)).startswith(config["scratch"]):
                return  # the scratch folder is the model's to use
            result["events"].append({"kind": "file-change", "detail": f"{event} {target!r}"[:300]})
        elif event == "ctypes.dlopen":
            name = args[0]
            if not (isinstance(name, str) and os.path.realpath(name).startswith(LIBRARY_PREFIXES)):
                result["events"].append({"kind": "native-code", "detail": f"{event} {name!r}"[:300]})
        elif event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            result["events"].append({"kind": "signal", "detail": f"{event} {args!r}"[:300]})
    except Exception:
        pass


def fail(stage, exc):
    result["stage"] = stage
    result["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]
    result["error_type"] = type(exc).__name__
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if f.filename.endswith("model.py")]
    if frames:
        result["error_line"] = frames[-1].lineno
    emit()
    sys.exit(0)


def main():
    import importlib.util
    import inspect
    import resource

    result["stage"] = "import-libraries"
    mark("import-libraries")
    try:
        import torch
        from safetensors import safe_open
    except BaseException as e:  # noqa: BLE001
        fail("import-libraries", e)
    torch.set_num_threads(max(1, int(config.get("threads", 1))))
    sys.addaudithook(audit)

    folder = config["submission"]
    recording[0] = True
    result["stage"] = "import-model"
    mark("import-model")
    t0 = time.perf_counter()
    try:
        spec = importlib.util.spec_from_file_location("custom_model", os.path.join(folder, "model.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["custom_model"] = module
        spec.loader.exec_module(module)
    except BaseException as e:  # noqa: BLE001
        fail("import-model", e)
    if not hasattr(module, "load_model"):
        fail("import-model", AttributeError("model.py defines no load_model"))

    result["stage"] = "load"
    mark("load")
    kwargs = dict(config["model_kwargs"])
    weights = config["weights"]
    try:
        signature = inspect.signature(module.load_model)
        try:
            signature.bind(weights, **kwargs)
        except TypeError:
            result["fallback_call"] = True
            kwargs = {"num_classes": kwargs.get("num_classes", 2)}
            signature.bind(weights, **kwargs)
        model = module.load_model(weights, **kwargs)
    except BaseException as e:  # noqa: BLE001
        fail("load", e)
    result["load_ms"] = (time.perf_counter() - t0) * 1000
    if not isinstance(model, torch.nn.Module):
        fail("load", TypeError(f"load_model() must return a torch.nn.Module, got {type(model).__name__}"))

    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[config["dtype"]]
    try:
        model = model.to(device=config["device"], dtype=dtype).eval()
    except BaseException as e:  # noqa: BLE001
        fail("load", e)

    # Compare the module's parameters with the weights file.
    try:
        with safe_open(weights, framework="pt", device="cpu") as f:
            file_shapes = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
        state = {k: list(v.shape) for k, v in model.state_dict().items()}
        result["missing"] = sorted(k for k in state if k not in file_shapes)[:50]
        result["unexpected"] = sorted(k for k in file_shapes if k not in state)[:50]
        result["shape_mismatch"] = sorted(k for k in state if k in file_shapes and state[k] != file_shapes[k])[:50]
        result["parameters"] = int(sum(p.numel() for p in model.parameters()))
    except BaseException as e:  # noqa: BLE001
        result["compare_error"] = str(e)[:500]

    result["stage"] = "forward"
    mark("forward")
    shape = [2] + list(config["input_shape"][1:])
    generator = torch.Generator().manual_seed(34)
    if config["modality"] == "audio":
        x = torch.rand(shape, generator=generator) * 2 - 1
    else:
        x = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
    x = x.to(config["device"])

    def unwrap(out):
        if hasattr(out, "logits"):
            out = out.logits
        if isinstance(out, dict):
            out = out.get("logits", out.get("output", next(iter(out.values())) if len(out) == 1 else out))
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        return out

    try:
        with torch.no_grad():
            t1 = time.perf_counter()
            y = unwrap(model(x))
            result["forward_ms"] = (time.perf_counter() - t1) * 1000
            if not isinstance(y, torch.Tensor):
                raise TypeError(f"the model returned {type(y).__name__}, not a tensor")
            result["output_shape"] = list(y.shape)
            result["finite"] = bool(torch.isfinite(y.float()).all())
            y2 = unwrap(model(x))
            result["deterministic"] = bool(torch.equal(y, y2))
            y1 = unwrap(model(x[:1]))
            result["batch_independent"] = bool(torch.allclose(y1.float(), y[:1].float(), rtol=1e-3, atol=1e-4))
    except BaseException as e:  # noqa: BLE001
        fail("forward", e)
    recording[0] = False
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["dtype"] = config["dtype"]
    result["stage"] = "done"
    result["ok"] = True
    mark("done")
    emit()


main()
