//! The shipped examples are real: loaded the way the evaluator loads them
//! (PyYAML safe_load, model.py imported by path, load_model(path, **model),
//! one forward pass on the documented input) with the evaluator's pinned
//! libraries from the test venv. Not sandboxed: the examples are ours.

mod common;
use common::*;

const EVALUATE: &str = r#"
import importlib.util, inspect, pathlib, sys
import torch, yaml
folder = pathlib.Path(sys.argv[1])
config = yaml.safe_load((folder / "model_config.yaml").read_text())
spec = importlib.util.spec_from_file_location("custom_model", folder / "model.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
kwargs = dict(config.get("model", {}))
weights = folder / kwargs.pop("weights_file", "model.safetensors")
inspect.signature(module.load_model).bind(str(weights), **kwargs)
model = module.load_model(str(weights), **kwargs)
assert isinstance(model, torch.nn.Module)
pre = config.get("preprocessing", {})
m = config["modality"]
if m == "image":
    x = torch.randint(0, 256, (2, 3, *pre["resize"]), dtype=torch.uint8)
elif m == "video":
    t = pre.get("num_frames", pre.get("max_frames", 16))
    x = torch.randint(0, 256, (2, t, 3, *pre["resize"]), dtype=torch.uint8)
else:
    n = int(pre.get("sample_rate", 16000) * pre.get("duration_seconds", 6.0))
    x = torch.rand(2, n) * 2 - 1
with torch.no_grad():
    y = model.eval()(x)
assert tuple(y.shape) == (2, config["model"]["num_classes"]), y.shape
assert torch.isfinite(y).all()
print("ok", m, tuple(y.shape))
"#;

#[test]
fn every_example_loads_and_runs_as_the_evaluator_would() {
    let python = test_python();
    for modality in ["image", "video", "audio"] {
        // Run on a copy: importing model.py must never leave a __pycache__
        // in the shipped example (L004 would then reject it).
        let copy = tempfile::tempdir().expect("tempdir");
        for (name, bytes) in example_files(modality) {
            std::fs::write(copy.path().join(name), bytes).expect("copy example");
        }
        let out = std::process::Command::new(&python)
            .args([
                "-I",
                "-B",
                "-c",
                EVALUATE,
                copy.path().to_str().expect("utf8"),
            ])
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .expect("run python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.starts_with(&format!("ok {modality}")),
            "{modality}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
