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


def read_yaml(path):
    try:
        with open(path, "rb") as f:
            data = yaml.safe_load(f)
        return {"ok": True, "value": json.loads(json.dumps(data, default=str))}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def read_python(path):
    try:
        with open(path, "rb") as f:
            ast.parse(f.read())  # bytes: decoded as CPython decodes source
        return {"ok": True}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


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
