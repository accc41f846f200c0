"""Regenerates examples/*/model.safetensors from each example's model.py.

Weights are the models' seeded initialisation: the examples are about the
submission's shape, not accuracy. Run with the test venv (it needs torch):
    .venv/bin/python scripts/make-examples.py
"""
import importlib.util
import sys

sys.dont_write_bytecode = True  # a __pycache__ in an example would be rejected (L004)
import pathlib

import torch
import yaml
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent / "examples"
BUILDERS = {"image": "TinyDetector", "video": "TemporalPoolDetector", "audio": "WaveDetector"}

for name, cls in BUILDERS.items():
    folder = ROOT / name
    spec = importlib.util.spec_from_file_location(f"example_{name}", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = yaml.safe_load((folder / "model_config.yaml").read_text())
    kwargs = {k: v for k, v in config["model"].items() if k != "weights_file"}
    torch.manual_seed(34)
    model = getattr(module, cls)(**kwargs)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"generated_by": "scripts/make-examples.py"})
    print(f"{name}: {sum(v.numel() for v in state.values())} values")
