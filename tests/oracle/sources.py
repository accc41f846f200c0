"""The oracle's catalogue of ways to obtain a dangerous object, each with its
benign twin (tests/oracle/generate.py composes them into programs).

A *variant* describes one callable and how it is called:

    imports   module-level import lines it needs
    prelude   module-level statements it needs (helpers, annotated functions)
    base      an expression for the object the call starts from
    dotted    True when `base` is a dotted path `a.b.c` (so `from a.b import c as N`
              binds it: the import-as binding form applies)
    importable  True when `base` is itself a module (so `from base import tail`
              works); a module reached as another module's attribute
              (`torch.os`) is not: `import torch.os` fails
    tail      attribute chain from `base` to the callable ("" when `base` is it)
    args      positional argument expressions
    argnames  their parameter names (None when they are positional-only)
    kwargs    keyword arguments [(name, expression)]
    config    extra keys of model_config.yaml's `model:` section
    metadata  `__metadata__` of model.safetensors
    where     locations the use may be placed in (the module body runs before
              load_model, so config data is only there from load_model on)
    wrap      what is done with the call's result ("{}": nothing; a DataLoader
              must be iterated to start its workers)

A *source* is a dangerous variant and its benign twin. Most twins replace the
dangerous object with `torch.nn.Identity` (it accepts and ignores any
arguments), reached in the same number of links, so that the twin differs from
the dangerous program in the object alone; sources whose danger lies in an
argument (`pretrained=True`, `allow_pickle=True`, an annotation string) keep
the callable and change that argument.

Every payload is harmless even if it ran (the command is `true`, paths are
under the non-existent /nonexistent-oracle, URLs are 127.0.0.1:9) and carries
the marker GGORACLE; the fork server blocks it anyway.
"""

import collections
import marshal
import pickle

MARKER = "GGORACLE"
NOWHERE = "/nonexistent-oracle"
EVERYWHERE = ("module", "load_model", "init", "forward")
AFTER_LOAD = ("load_model", "init", "forward")

CMD = repr(f"true {MARKER}")
PATH = repr(f"{NOWHERE}/{MARKER}")
URL = repr(f"http://127.0.0.1:9/{MARKER}")
CODE = repr(f"__import__('os').system('true {MARKER}')")
# A pickle whose loading looks up a global (`pickle.find_class`), and a marshal blob.
PICKLE = repr(pickle.dumps(collections.OrderedDict([(MARKER, 1)]), protocol=2))
MARSHAL = repr(marshal.dumps((MARKER,)))
# A file that exists outside the submission, for APIs that check before they
# open (torch.save's native writer and timm's checkpoint loaders are silent
# about a missing file). Reading it is harmless, and forbidden all the same.
EXISTING = repr("/etc/passwd")
# A config value joined to the submission folder (an absolute value replaces it).
CFG_PATH = "pathlib.Path(__file__).parent / _CFG['oracle_arg']"

# A file-like object over bytes, for numpy.load (io is not an allowed module).
BUF_HELPER = [
    "class _Buf:",
    "    def __init__(self, data):",
    "        self.data, self.pos = data, 0",
    "    def read(self, n=-1):",
    "        end = len(self.data) if n is None or n < 0 else self.pos + n",
    "        out, self.pos = self.data[self.pos:end], min(end, len(self.data))",
    "        return out",
    "    def readline(self, n=-1):",
    "        end = self.data.find(b'\\n', self.pos)",
    "        return self.read(-1 if end < 0 else end + 1 - self.pos)",
    "    def seek(self, pos, whence=0):",
    "        self.pos = pos if whence == 0 else (self.pos + pos if whence == 1 else len(self.data) + pos)",
    "        return self.pos",
    "    def tell(self):",
    "        return self.pos",
]


def V(base, tail="", args=(), argnames=None, kwargs=(), imports=(), prelude=(), dotted=None, config=None, metadata=None, where=EVERYWHERE, wrap="{}", importable=None):
    if dotted is None:
        dotted = all(part.isidentifier() for part in base.split("."))
    if importable is None:
        importable = dotted and base not in NOT_MODULES
    return {
        "imports": list(imports),
        "prelude": list(prelude),
        "base": base,
        "dotted": dotted,
        "tail": tail,
        "args": list(args),
        "argnames": list(argnames) if argnames is not None else None,
        "kwargs": [list(kv) for kv in kwargs],
        "config": dict(config or {}),
        "metadata": dict(metadata or {}),
        "where": list(where),
        "wrap": wrap,
        "importable": importable,
    }


# Dotted bases that are not importable module paths (classes, objects).
NOT_MODULES = {"transformers.AutoConfig", "transformers.BertConfig", "torch.ops", "dataclasses.inspect", "torch.nn.Identity"}


def identity_twin(danger, links=None):
    """torch.nn.Identity reached like the dangerous object: an attribute chain
    of the same shape when the danger has a tail, the class itself otherwise."""
    if danger["tail"]:
        base, tail = "torch.nn", "Identity"
    else:
        base, tail = links or "torch.nn.Identity", ""
    return V(
        base,
        tail,
        danger["args"],
        danger["argnames"],
        danger["kwargs"],
        imports=["import torch.nn"],
        config=danger["config"],
        metadata=danger["metadata"],
        where=danger["where"],
        wrap=danger["wrap"],
    )


def S(name, klass, effect, danger, benign=None):
    return {"name": name, "class": klass, "effect": effect, "danger": danger, "benign": benign or identity_twin(danger)}


def _sources():
    out = []
    # --- imports of blocked modules ------------------------------------------
    out += [
        S("import-os-system", "import", "process", V("os", "system", [CMD], ["command"], imports=["import os"])),
        S("import-subprocess-popen", "import", "process", V("subprocess", "Popen", [f"['true', {MARKER!r}]"], ["args"], imports=["import subprocess"])),
        S("import-socket", "import", "network", V("socket", "create_connection", ["('127.0.0.1', 9)"], ["address"], imports=["import socket"])),
        S("import-urllib", "import", "network", V("urllib.request", "urlopen", [URL], ["url"], imports=["import urllib.request"])),
        S("import-pickle", "import", "unpickle", V("pickle", "loads", [PICKLE], imports=["import pickle"])),
        S("import-marshal", "import", "unpickle", V("marshal", "loads", [MARSHAL], imports=["import marshal"])),
        S("import-ctypes", "import", "native", V("ctypes", "CDLL", [repr(f"{NOWHERE}/{MARKER}.so")], ["name"], imports=["import ctypes"])),
        S("import-shutil", "import", "file-write", V("shutil", "rmtree", [PATH], ["path"], imports=["import shutil"])),
        S("import-sys-modules", "import", "process", V("sys.modules['os']", "system", [CMD], ["command"], imports=["import sys"])),
        # os.getenv raises no audit event: only the import of os is forbidden.
        S("import-os-getenv", "import", "import", V("os", "getenv", [repr(MARKER)], ["key"], imports=["import os"])),
        S("import-dunder-import", "import", "process", V("__import__('os')", "system", [CMD], ["command"], dotted=False)),
        S("from-os-import", "import", "process", V("system", "", [CMD], ["command"], imports=["from os import system"], dotted=False)),
        S("import-builtins-exec", "import", "exec", V("builtins", "exec", [repr(f"x = {MARKER!r}")], imports=["import builtins"])),
        S("import-importlib", "import", "process", V("importlib.import_module('os')", "system", [CMD], ["command"], imports=["import importlib"])),
    ]
    # --- attribute chains through allowed modules ----------------------------
    chains = [
        ("torch.os", "system", [CMD], ["command"], "process"),
        ("pathlib.os", "system", [CMD], ["command"], "process"),
        ("cv2.os", "system", [CMD], ["command"], "process"),
        ("safetensors.torch.os", "system", [CMD], ["command"], "process"),
        ("torch.serialization.os", "system", [CMD], ["command"], "process"),
        ("torch.hub.shutil", "rmtree", [PATH], ["path"], "file-write"),
        ("torch.serialization.pickle", "loads", [PICKLE], None, "unpickle"),
        ("torch.ctypes", "CDLL", [repr(f"{NOWHERE}/{MARKER}.so")], ["name"], "native"),
        ("numpy.ctypeslib.ctypes", "CDLL", [repr(f"{NOWHERE}/{MARKER}.so")], ["name"], "native"),
        ("torch.sys.modules['subprocess']", "Popen", [f"['true', {MARKER!r}]"], ["args"], "process"),
        ("collections._sys.modules['os']", "system", [CMD], ["command"], "process"),
        ("torch.builtins", "eval", [CODE], None, "exec"),
        ("enum.bltns", "exec", [CODE], None, "exec"),
        ("dataclasses.builtins.__import__('os')", "system", [CMD], ["command"], "process"),
        ("torch.importlib.import_module('os')", "system", [CMD], ["command"], "process"),
        ("torch._utils_internal.os", "system", [CMD], ["command"], "process"),
    ]
    for base, tail, args, names, effect in chains:
        root = base.split(".")[0]
        imports = ["import torch", "import numpy.ctypeslib"] if root == "numpy" else [f"import {root}"]
        if root == "safetensors":
            imports = ["import safetensors.torch"]
        out.append(S(f"chain-{base.split('(')[0].split('[')[0]}.{tail}", "attr-chain", effect, V(base, tail, args, names, imports=imports, importable=False)))
    # --- the same object through private modules and re-exports --------------
    out += [
        S("reexport-torch-serialization-load", "reexport", "file-read", V("torch.serialization", "load", [repr(f"{NOWHERE}/{MARKER}.pt")], ["f"], imports=["import torch"])),
        S("reexport-torch-load", "reexport", "file-read", V("torch", "load", [repr(f"{NOWHERE}/{MARKER}.pt")], ["f"], imports=["import torch"])),
        S("reexport-torch-serialization-save", "reexport", "file-write", V("torch.serialization", "save", ["torch.zeros(1)", repr(f"{NOWHERE}/{MARKER}.pt")], ["obj", "f"], [("_use_new_zipfile_serialization", "False")], imports=["import torch"])),
        S("reexport-numpy-save", "reexport", "file-write", V("numpy.lib._npyio_impl", "save", [repr(f"{NOWHERE}/{MARKER}.npy"), "[1]"], ["file", "arr"], imports=["import numpy"])),
        S("reexport-numpy-fromfile", "reexport", "file-read", V("numpy", "fromfile", [PATH], ["file"], imports=["import numpy"])),
        S("reexport-timm-load-state-dict", "reexport", "file-read", V("timm.models._helpers", "load_state_dict", [EXISTING], ["checkpoint_path"], imports=["import timm.models"])),
        S("reexport-timm-models-load-state-dict", "reexport", "file-read", V("timm.models", "load_state_dict", [EXISTING], ["checkpoint_path"], imports=["import timm.models"])),
        S("reexport-hub-from-url", "reexport", "network", V("torch.hub", "load_state_dict_from_url", [URL], ["url"], [("model_dir", repr(NOWHERE))], imports=["import torch.hub"])),
        S("reexport-torchvision-from-url", "reexport", "network", V("torchvision._internally_replaced_utils", "load_state_dict_from_url", [URL], ["url"], [("model_dir", repr(NOWHERE))], imports=["import torchvision"])),
        S("reexport-model-zoo", "reexport", "network", V("torch.utils.model_zoo", "load_url", [URL], ["url"], [("model_dir", repr(NOWHERE))], imports=["import torch.utils.model_zoo"])),
        S("reexport-hub-download-to-file", "reexport", "network", V("torch.hub", "download_url_to_file", [URL, PATH], ["url", "dst"], imports=["import torch.hub"])),
        S("reexport-torchvision-download-url", "reexport", "network", V("torchvision.datasets.utils", "download_url", [URL, repr(NOWHERE)], ["url", "root"], imports=["import torchvision.datasets.utils"])),
        S("reexport-transformers-cached-file", "reexport", "network", V("transformers.utils.hub", "cached_file", [repr(f"oracle/{MARKER}"), "'config.json'"], ["path_or_repo_id", "filename"], imports=["import transformers.utils.hub"])),
        S("reexport-torch-ops-load-library", "reexport", "native", V("torch.ops", "load_library", [repr(f"{NOWHERE}/{MARKER}.so")], ["path"], imports=["import torch"])),
        S("receiver-path-write-text", "reexport", "file-write", V(f"pathlib.Path({PATH})", "write_text", [repr(MARKER)], ["data"], imports=["import pathlib"])),
        S("receiver-path-unlink", "reexport", "file-write", V(f"pathlib.Path({PATH})", "unlink", [], imports=["import pathlib"]), V("pathlib.Path(__file__)", "exists", [], imports=["import pathlib"])),
        S("receiver-path-rename", "reexport", "file-write", V(f"pathlib.Path({PATH})", "rename", [repr(f"{NOWHERE}/{MARKER}2")], ["target"], imports=["import pathlib"])),
        S("receiver-path-read-bytes", "reexport", "file-read", V(f"pathlib.Path({PATH})", "read_bytes", [], imports=["import pathlib"]), V("pathlib.Path(__file__)", "read_bytes", [], imports=["import pathlib"])),
        S("receiver-pil-save", "reexport", "file-write", V("PIL.Image.new('RGB', (1, 1))", "save", [repr(f"{NOWHERE}/{MARKER}.png")], ["fp"], imports=["import PIL.Image"])),
        S("builtin-open-write", "reexport", "file-write", V("open", "", [PATH, "'w'"], ["file", "mode"], dotted=False), V("open", "", ["__file__", "'r'"], ["file", "mode"], dotted=False)),
        S("read-proc-environ", "reexport", "file-read", V("pathlib.Path('/proc/self/environ')", "read_bytes", [], imports=["import pathlib"]), V("pathlib.Path(__file__)", "read_bytes", [], imports=["import pathlib"])),
        S("builtin-open-read", "reexport", "file-read", V("open", "", [PATH, "'rb'"], ["file", "mode"], dotted=False), V("open", "", ["__file__", "'rb'"], ["file", "mode"], dotted=False)),
    ]
    # --- introspection -------------------------------------------------------
    intro = [
        ("torch.save.__globals__['os']", "system", [CMD], ["command"], ["import torch"], []),
        ("torch.__dict__['os']", "system", [CMD], ["command"], ["import torch"], []),
        ("vars(torch)['os']", "system", [CMD], ["command"], ["import torch"], []),
        ("getattr(torch, 'o' + 's')", "system", [CMD], ["command"], ["import torch"], []),
        ("torch.__getattribute__('os')", "system", [CMD], ["command"], ["import torch"], []),
        ("__builtins__['__import__']('os')", "system", [CMD], ["command"], [], []),
        ("globals()['__builtins__']['eval']", "", [CODE], None, [], []),
        ("(lambda: 0).__globals__['__builtins__']['__import__']('subprocess')", "Popen", [f"['true', {MARKER!r}]"], ["args"], [], []),
        ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['system']", "", [CMD], ["command"], [], []),
        ("_m", "system", [CMD], ["command"], ["import torch"], ["match torch:", "    case object(os=_m):", "        pass"]),
        ("_d['os']", "system", [CMD], ["command"], ["import torch"], ["match torch:", "    case object(__dict__=_d):", "        pass"]),
        ("load_file.__globals__['os']", "system", [CMD], ["command"], [], []),
    ]
    for i, (base, tail, args, names, imports, prelude) in enumerate(intro):
        danger = V(base, tail, args, names, imports=imports, prelude=prelude, dotted=False)
        out.append(S(f"introspection-{i:02d}", "introspection", "process" if "eval" not in base else "exec", danger))
    # --- strings evaluated as code -------------------------------------------
    ann = lambda s: [f"def _annotated(x: {s}):", "    return x"]  # noqa: E731
    tensor_ann = lambda s: [f"def _annotated(x: {s}) -> 'torch.Tensor':", "    return x"]  # noqa: E731
    # `inspect` is not on the allowlist: every use of it is P106 whatever the
    # annotation says, so the danger of these two sources lies in the object and
    # their twin swaps it for torch.nn.Identity (two links, like the danger).
    inspect_twin = lambda ann, kwargs: V("torch.nn", "Identity", ["_annotated"], ["obj"], kwargs, imports=["import torch.nn"], prelude=ann("'int'"))  # noqa: E731
    out += [
        S("eval-builtin", "string-eval", "exec", V("eval", "", [CODE], dotted=False)),
        S("exec-builtin", "string-eval", "exec", V("exec", "", [CODE], dotted=False)),
        S("compile-builtin", "string-eval", "exec", V("compile", "", [CODE, "'<oracle>'", "'eval'"], dotted=False)),
        S("get-type-hints", "string-eval", "exec", V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing"], prelude=ann(CODE)), V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing"], prelude=ann("'int'"))),
        S("get-type-hints-private", "string-eval", "exec", V("typing", "_eval_type", [f"typing.ForwardRef({CODE})", "None", "None"], imports=["import typing"]), V("typing", "_eval_type", ["typing.ForwardRef('int')", "None", "None"], imports=["import typing"])),
        S("forward-ref-evaluate", "string-eval", "exec", V(f"typing.ForwardRef({CODE})", "_evaluate", ["None", "None", "frozenset()"], imports=["import typing"]), V("typing.ForwardRef('int')", "_evaluate", ["None", "None", "frozenset()"], imports=["import typing"])),
        S("inspect-get-annotations", "string-eval", "exec", V("dataclasses.inspect", "get_annotations", ["_annotated"], ["obj"], [("eval_str", "True")], imports=["import dataclasses"], prelude=ann(CODE)), inspect_twin(ann, [("eval_str", "True")])),
        S("singledispatch-register", "string-eval", "exec", V("functools.singledispatch(lambda x: x)", "register", ["_annotated"], ["cls"], imports=["import functools"], prelude=ann(CODE)), V("functools.singledispatch(lambda x: x)", "register", ["_annotated"], ["cls"], imports=["import functools"], prelude=ann("'int'"))),
        S("inspect-signature-eval-str", "string-eval", "exec", V("dataclasses.inspect", "signature", ["_annotated"], ["obj"], [("eval_str", "True")], imports=["import dataclasses"], prelude=ann(CODE)), inspect_twin(ann, [("eval_str", "True")])),
        # torch.library infers an operator schema by eval()-ing string annotations.
        S("torch-library-infer-schema", "string-eval", "exec", V("torch.library", "infer_schema", ["_annotated"], None, [("mutates_args", "()")], imports=["import torch.library"], prelude=tensor_ann(CODE)), V("torch.library", "infer_schema", ["_annotated"], None, [("mutates_args", "()")], imports=["import torch.library"], prelude=tensor_ann("'torch.Tensor'"))),
        # get_type_hints evaluates in the globals of __wrapped__: os without an import.
    # The twin points __wrapped__ at a function of its own and imports nothing else.
        S("wrapped-dunder-write", "string-eval", "process", V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing", "import torch.serialization"], prelude=[f"def _annotated(x: {f'os.system({CMD})'!r}):", "    return x", "_annotated.__wrapped__ = torch.serialization.load"]), V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing"], prelude=["def _annotated(x: 'int'):", "    return x", "def _other():", "    pass", "_annotated.__wrapped__ = _other"])),
        S("annotations-dunder-write", "string-eval", "exec", V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing"], prelude=["def _annotated(x):", "    return x", f"_annotated.__annotations__['x'] = {CODE}"]), V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing"], prelude=["def _annotated(x):", "    return x", "_annotated.__annotations__['x'] = 'int'"])),
    ]
    # --- data from the weights' metadata and the config ----------------------
    meta = ["from safetensors import safe_open", "import pathlib"]
    meta_prelude = ["with safe_open(str(pathlib.Path(__file__).with_name('model.safetensors')), 'pt') as _f:", "    _META = _f.metadata()"]
    out += [
        S("metadata-annotation", "data", "exec", V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing", *meta], prelude=[*meta_prelude, "def _annotated(x):", "    return x", "_annotated.__annotations__['x'] = _META['hint']"], metadata={"hint": f"__import__('os').system('true {MARKER}')"}), V("typing", "get_type_hints", ["_annotated"], ["obj"], imports=["import typing", *meta], prelude=[*meta_prelude, "def _annotated(x):", "    return x", "_annotated.__annotations__['x'] = _META['hint']"], metadata={"hint": "int"})),
        S("metadata-path", "data", "file-read", V("torch", "load", ["_META['path']"], ["f"], imports=["import torch", *meta], prelude=meta_prelude, metadata={"path": f"{NOWHERE}/{MARKER}.pt"}), V("torch", "zeros", ["int(_META['path'])"], imports=["import torch", *meta], prelude=meta_prelude, metadata={"path": "1"})),
        S("config-pretrained", "data", "network", V("timm", "create_model", ["'test_vit'"], ["model_name"], [("pretrained", "_CFG['oracle_flag']")], imports=["import timm"], config={"oracle_flag": True}, where=AFTER_LOAD), V("timm", "create_model", ["'test_vit'"], ["model_name"], [("pretrained", "_CFG['oracle_flag']")], imports=["import timm"], config={"oracle_flag": False}, where=AFTER_LOAD)),
        S("config-command", "data", "process", V("torch.os", "system", ["_CFG['oracle_arg']"], ["command"], imports=["import torch"], config={"oracle_arg": f"true {MARKER}"}, where=AFTER_LOAD)),
        S("config-path", "data", "file-read", V("open", "", [CFG_PATH, "'rb'"], ["file", "mode"], imports=["import pathlib"], config={"oracle_arg": f"{NOWHERE}/{MARKER}"}, where=AFTER_LOAD, dotted=False), V("open", "", [CFG_PATH, "'rb'"], ["file", "mode"], imports=["import pathlib"], config={"oracle_arg": "model.safetensors"}, where=AFTER_LOAD, dotted=False)),
    ]
    # --- arguments that decide -----------------------------------------------
    out += [
        S("arg-timm-pretrained", "argument", "network", V("timm", "create_model", ["'test_vit'"], ["model_name"], [("pretrained", "True")], imports=["import timm"]), V("timm", "create_model", ["'test_vit'"], ["model_name"], [("pretrained", "False")], imports=["import timm"])),
        S("arg-timm-pretrained-positional", "argument", "network", V("timm", "create_model", ["'test_vit'", "True"], ["model_name", "pretrained"], imports=["import timm"]), V("timm", "create_model", ["'test_vit'", "False"], ["model_name", "pretrained"], imports=["import timm"])),
        S("arg-numpy-allow-pickle-positional", "argument", "unpickle", V("numpy", "load", [f"_Buf({PICKLE})", "None", "True"], ["file", "mmap_mode", "allow_pickle"], imports=["import numpy"], prelude=BUF_HELPER), V("numpy", "load", [f"_Buf({PICKLE})", "None", "False"], ["file", "mmap_mode", "allow_pickle"], imports=["import numpy"], prelude=BUF_HELPER)),
        S("arg-torchvision-weights", "argument", "network", V("torchvision.models", "squeezenet1_1", [], None, [("weights", "'DEFAULT'")], imports=["import torchvision.models"]), V("torchvision.models", "squeezenet1_1", [], None, [("weights", "None")], imports=["import torchvision.models"])),
        S("arg-numpy-allow-pickle", "argument", "unpickle", V("numpy", "load", [f"_Buf({PICKLE})"], ["file"], [("allow_pickle", "True")], imports=["import numpy"], prelude=BUF_HELPER), V("numpy", "load", [f"_Buf({PICKLE})"], ["file"], [("allow_pickle", "False")], imports=["import numpy"], prelude=BUF_HELPER)),
        S("arg-hub-id", "argument", "network", V("transformers.AutoConfig", "from_pretrained", [repr(f"oracle/{MARKER}")], ["pretrained_model_name_or_path"], imports=["import transformers"]), V("transformers.BertConfig", "from_dict", ["{}"], ["config_dict"], imports=["import transformers"])),
        S("arg-dataloader-workers", "argument", "process", V("torch.utils.data", "DataLoader", ["[1, 2]"], ["dataset"], [("num_workers", "1")], imports=["import torch.utils.data"], wrap="next(iter({}))"), V("torch.utils.data", "DataLoader", ["[1, 2]"], ["dataset"], [("num_workers", "0")], imports=["import torch.utils.data"], wrap="next(iter({}))")),
    ]
    return out


SOURCES = _sources()
CLASSES = sorted({s["class"] for s in SOURCES})
