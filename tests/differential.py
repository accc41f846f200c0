"""Reference readings for tests/differential.rs, with the evaluator's own
parsers (Python's zipfile, PyYAML, CPython's ast, the safetensors library).
Reads a JSON list of {"kind", "path"} on stdin, prints one JSON result each."""
import ast
import json
import sys
import zipfile

import yaml


def read_zip(path):
    try:
        with zipfile.ZipFile(path) as z:
            entries = [{"name": i.filename, "size": i.file_size} for i in z.infolist()]
            bad = z.testzip()  # reads and CRC-checks every entry
            return {"ok": bad is None, "entries": entries, "error": f"bad entry {bad}" if bad else None}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def expanded_size(data, budget=1_000_000):
    """Nodes in `data` with shared (aliased) parts counted each time, as a
    JSON rendering would write them; stops counting past `budget`."""
    seen, stack = 0, [data]
    while stack and seen <= budget:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return seen


def read_yaml(path):
    try:
        with open(path, "rb") as f:
            data = yaml.safe_load(f)
        if expanded_size(data) > 1_000_000:
            # An alias bomb: PyYAML shares the nodes, but any use of the
            # value (here, rendering it) expands them.
            return {"ok": False, "error": "alias expansion exceeds 1,000,000 nodes"}
        return {"ok": True, "value": json.loads(json.dumps(data, default=str))}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def read_python(path):
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())  # bytes: decoded as CPython decodes source
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    # The reference inventory: every import and every call to a dotted name.
    imports, calls = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name is not None:
                calls.add(name)
    return {"ok": True, "imports": sorted(imports), "calls": sorted(calls)}


def read_safetensors(path):
    try:
        from safetensors import safe_open

        with safe_open(path, framework="np") as f:
            tensors = {k: {"dtype": str(f.get_slice(k).get_dtype()), "shape": list(f.get_slice(k).get_shape())} for k in f.keys()}
        return {"ok": True, "tensors": tensors}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


READERS = {"zip": read_zip, "yaml": read_yaml, "python": read_python, "safetensors": read_safetensors}
for case in json.load(sys.stdin):
    print(json.dumps(READERS[case["kind"]](case["path"])))
