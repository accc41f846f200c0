#!/usr/bin/env python3
"""Generates model.py programs for the static-analysis oracle (docs/oracle.md).

A program is one choice in each dimension:

    source    how the dangerous object is obtained (tests/oracle/sources.py)
    binding   the Python binding form that first names it (tests/oracle/forms.py)
    passing   how it is passed on to where it is used (forms.py)
    use       how it is used: call, attribute chain then call, argument shapes (forms.py)
    location  where the use runs: the module body, load_model, __init__, forward

and comes as a pair: the dangerous program and its benign twin, identical but
for the object (or the deciding argument). Each program is a full submission
folder: model.py, model_config.yaml and a tiny model.safetensors (written
here, byte by byte, so the generator needs nothing but the standard library).

Deterministic: the same --seed and --n give the same bytes.

    generate.py OUT --n 1000 --seed 1          # random pairs
    generate.py OUT --n 0 --matrix             # every binding x use form, one source
"""

import argparse
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sources import MARKER, SOURCES  # noqa: E402

from forms import BINDINGS, HELPERS, PASSINGS, USES, Names, binding_applies, indent, passing_applies, use_applies, value_of  # noqa: E402

LOCATIONS = ("module", "load_model", "init", "forward")


def render(prog_id, kind, source, variant, binding, passing, use, location, payload=None):
    """model.py of one program; `payload` (lines) replaces the composed one."""
    c = Names()
    if payload is None:
        use_f, attr = USES[use]
        value = value_of(variant, attr)

        def after_passing(acc):
            return use_f(acc, variant, c, attr)

        def after_binding(acc):
            return PASSINGS[passing](acc, after_passing, c)

        payload = BINDINGS[binding](value, after_binding, c)
    helpers = [line for h in sorted(c.helpers) for line in [*HELPERS[h], ""]]
    imports = sorted(set(variant["imports"]) | c.imports | {"import torch", "import torch.nn as nn", "from safetensors.torch import load_file"})
    out = [
        f"# {MARKER} oracle program {prog_id} ({kind}): source={source['name']} binding={binding} passing={passing} use={use} location={location}",
        *imports,
        "",
        "_CFG = {}",
        "",
        *helpers,
        *variant["prelude"],
        *c.constants,
        "",
    ]
    if location == "module":
        out += [*payload, ""]
    out += [
        "",
        "class OracleNet(nn.Module):",
        "    def __init__(self, num_classes=2):",
        "        super().__init__()",
        "        self.head = nn.Linear(3, num_classes)",
        *(indent(payload, 2) if location == "init" else []),
        "",
        "    def forward(self, x):",
        *(indent(payload, 2) if location == "forward" else []),
        "        return self.head(x.float().mean(dim=(2, 3)))",
        "",
        "",
        "def load_model(weights_path, num_classes=2, **kw):",
        "    _CFG.update(kw)",
        *(indent(payload, 1) if location == "load_model" else []),
        "    model = OracleNet(num_classes)",
        "    model.load_state_dict(load_file(weights_path))",
        "    return model.eval()",
        "",
    ]
    return "\n".join(out)


def yaml_scalar(value):
    # JSON scalars are valid YAML flow scalars (true/false, numbers, "strings").
    return json.dumps(value)


def config_yaml(variant):
    lines = [
        'name: "gasguard-oracle"',
        'version: "1.0.0"',
        'modality: "image"',
        "preprocessing:",
        "  resize: [32, 32]",
        "model:",
        "  num_classes: 2",
    ]
    lines += [f"  {k}: {yaml_scalar(v)}" for k, v in sorted(variant["config"].items())]
    return "\n".join(lines) + "\n"


def safetensors_bytes(metadata):
    """head.weight [2, 3] and head.bias [2], float32, fixed values."""
    weight = struct.pack("<6f", 0.1, -0.2, 0.3, -0.1, 0.2, -0.3)
    bias = struct.pack("<2f", 0.0, 0.0)
    header = {
        "head.bias": {"dtype": "F32", "shape": [2], "data_offsets": [0, len(bias)]},
        "head.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [len(bias), len(bias) + len(weight)]},
    }
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in sorted(metadata.items())}
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + bias + weight


def compatible(source, binding, passing, use, location):
    d, b = source["danger"], source["benign"]
    if location not in d["where"] or location not in b["where"]:
        return False
    if not (use_applies(use, d) and use_applies(use, b)):
        return False
    attr = USES[use][1]
    if not (binding_applies(binding, d, attr) and binding_applies(binding, b, attr)):
        return False
    return passing_applies(passing, binding)


def choose(rng, sources, bindings, passings, uses, locations):
    """One compatible combination, drawn uniformly per dimension (redrawn until compatible)."""
    for _ in range(1000):
        combo = (rng.choice(sources), rng.choice(bindings), rng.choice(passings), rng.choice(uses), rng.choice(locations))
        if compatible(*combo):
            return combo
    raise SystemExit("generate.py: no compatible combination (dimension lists too narrow)")


def write_pair(out_dir, index, combo, manifest, program_set):
    source, binding, passing, use, location = combo
    for kind in ("danger", "benign"):
        prog_id = f"{index:05d}-{kind[0]}"
        variant = source[kind]
        folder = os.path.join(out_dir, prog_id)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.py"), "w") as f:
            f.write(render(prog_id, kind, source, variant, binding, passing, use, location))
        with open(os.path.join(folder, "model_config.yaml"), "w") as f:
            f.write(config_yaml(variant))
        with open(os.path.join(folder, "model.safetensors"), "wb") as f:
            f.write(safetensors_bytes(variant["metadata"]))
        manifest.append(
            {
                "id": prog_id,
                "pair": index,
                "set": program_set,
                "kind": kind,
                "source": source["name"],
                "class": source["class"],
                "effect": source["effect"],
                "binding": binding,
                "passing": passing,
                "use": use,
                "location": location,
                "model_section": {"num_classes": 2, **variant["config"]},
            }
        )


MATRIX_SOURCE = "reexport-torch-load"
# The use forms the issue distinguishes: a call, an attribute chain then a
# call, keyword arguments, non-literal arguments.
MATRIX_USES = ("call-positional", "attr-positional", "call-keyword", "attr-variables")


# Control programs: hand-written checks of the event definition itself, each
# with the kinds of forbidden events it must record, no more and no fewer.
# What libraries do on their own (lazy imports that unmarshal .pyc files and
# load extensions, dataclasses' exec, reading their own files) records
# nothing; what model.py does itself does.
CONTROLS = [
    ("lazy-stdlib-import", ["import colorsys", "colorsys.rgb_to_hsv(0.1, 0.2, 0.3)"], []),
    ("lazy-library-import", ["import scipy.ndimage", "scipy.ndimage.uniform_filter([1.0, 2.0])"], []),
    ("dataclass", ["import dataclasses", "@dataclasses.dataclass", "class Point:", "    x: int = 1", "Point()"], []),
    ("typing-annotation-int", ["import typing", "def f(x: 'int'):", "    return x", "typing.get_type_hints(f)"], []),
    ("read-own-weights", ["open(weights_path, 'rb').read(8)"], []),
    ("read-library-file", ["open(torch.__file__, 'rb').read(8)"], []),
    ("read-etc-passwd", ["open('/etc/passwd', 'rb')"], ["file-read"]),
    ("read-own-environ", ["open('/proc/self/environ', 'rb')"], ["file-read"]),
    ("read-cpuinfo", ["open('/proc/cpuinfo', 'rb').read(8)"], []),
    ("write-shm", ["open('/dev/shm/GGORACLE', 'w')"], ["file-write"]),
    ("write-own-folder", ["open(weights_path + '.GGORACLE', 'wb')"], ["file-write"]),
    ("compile-without-marker", ["compile('1 + 1', '<s>', 'eval')"], ["exec"]),
    ("eval-without-marker", ["eval('1 + 1')"], ["exec"]),
    ("import-os", ["import os"], ["import"]),
    ("import-os-in-eval", ["eval(\"__import__('os')\")"], ["exec"]),
    ("network-through-library", ["import torch.hub", "torch.hub.urlopen('http://127.0.0.1:9/GGORACLE')"], ["network"]),
    ("marshal-from-model", ["import marshal", "marshal.loads(marshal.dumps(1))"], ["import"]),
]


def write_control(out_dir, name, payload, expected, manifest):
    prog_id = f"control-{name}"
    variant = {"config": {}, "metadata": {}, "imports": [], "prelude": []}
    source = {"name": name}
    text = render(prog_id, "control", source, variant, None, None, None, "load_model", payload)
    folder = os.path.join(out_dir, prog_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.py"), "w") as f:
        f.write(text)
    with open(os.path.join(folder, "model_config.yaml"), "w") as f:
        f.write(config_yaml(variant))
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes({}))
    manifest.append(
        {"id": prog_id, "pair": None, "set": "control", "kind": "control", "source": name, "class": "control", "effect": None,
         "binding": None, "passing": None, "use": None, "location": "load_model", "model_section": {"num_classes": 2}, "expected": expected}
    )  # fmt: skip


def pick_sources(spec):
    """Sources whose name or class matches one of the comma-separated
    prefixes in `spec` (all when empty)."""
    if not spec:
        return SOURCES
    prefixes = [p for p in spec.split(",") if p]
    chosen = [s for s in SOURCES if any(s["name"].startswith(p) or s["class"] == p for p in prefixes)]
    if not chosen:
        raise SystemExit(f"generate.py: no source matches {spec!r}")
    return chosen


def generate(out_dir, n=0, seed=0, matrix_uses=(), sources=None, controls=False):
    """Writes the programs and OUT/manifest.json; returns the manifest.

    `n` random pairs (set "sample"), plus, for every binding form and each use
    form in `matrix_uses`, one pair of MATRIX_SOURCE (set "matrix"): a danger
    seen only by following the value (`torch` or `torch.load` bound by the
    form, then `.load(...)` or a call: `import torch` alone is fine), used in
    load_model without passing it on."""
    os.makedirs(out_dir, exist_ok=True)
    manifest = []
    rng = random.Random(seed)
    dims = (sources or SOURCES, sorted(BINDINGS), sorted(PASSINGS), sorted(USES), list(LOCATIONS))
    for index in range((n + 1) // 2):
        write_pair(out_dir, index, choose(rng, *dims), manifest, "sample")
    source = next(s for s in SOURCES if s["name"] == MATRIX_SOURCE)
    index = 50000
    for binding in sorted(BINDINGS):
        for use in matrix_uses:
            combo = (source, binding, "direct", use, "load_model")
            if compatible(*combo):
                write_pair(out_dir, index, combo, manifest, "matrix")
                index += 1
    if controls:
        for name, payload, expected in CONTROLS:
            write_control(out_dir, name, payload, expected, manifest)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=200, help="programs (pairs x 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--matrix", action="store_true", help="also every binding form x the matrix use forms, for one source")
    ap.add_argument("--sources", default="", help="only these sources: comma-separated name prefixes or classes")
    ap.add_argument("--controls", action="store_true", help="also the control programs (checks of the event definition)")
    ap.add_argument("--matrix-uses", default=",".join(MATRIX_USES), help="use forms of the matrix (comma-separated; 'all' for every one)")
    args = ap.parse_args()
    uses = (sorted(USES) if args.matrix_uses == "all" else args.matrix_uses.split(",")) if args.matrix else ()
    manifest = generate(args.out, args.n, args.seed, uses, pick_sources(args.sources), args.controls)
    print(f"generate: {len(manifest)} programs in {args.out}")


if __name__ == "__main__":
    main()
