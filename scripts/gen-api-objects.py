"""Writes rules/api-objects.txt, two tables about the policy's APIs (the
`apis:` entries of rules/sn34.yaml), read from the evaluator's libraries:

  sig PATH PARAMS    the parameters of a conditional API, in order
                     (`*` starts keyword-only ones, `*args`/`**kwargs` as
                     written), so that an argument passed positionally is
                     judged like the same argument passed by keyword;
  alias PATH REAL    another attribute path, inside an allowed module, that
                     is the very same object as the policy API REAL, so that
                     every spelling of one object gets one verdict.

Run with the evaluator's libraries (the test venv), and again whenever
python/requirements-eval.txt or the policy's apis change:
    .venv/bin/python scripts/gen-api-objects.py > rules/api-objects.txt
"""
import builtins, importlib, inspect, re, sys, types, warnings

warnings.filterwarnings("ignore")
root = __file__.rsplit("/scripts/", 1)[0]
policy = open(root + "/rules/sn34.yaml").read()
allowed_block = policy.split("allowed:", 1)[1].split("blocked:", 1)[0]
ALLOWED = re.findall(r"^\s*-\s*([A-Za-z_][\w.]*)\s*$", allowed_block, re.M)
APIS = re.findall(r'^\s*- \{name: ([\w.]+), when: ("[^"]*"|[^,]+),', policy.split("\napis:", 1)[1], re.M)
APIS = [(n, w.strip('"')) for n, w in APIS]


def allowed(name):
    return any(name == a or name.startswith(a + ".") for a in ALLOWED)


def resolve(path):
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = path.split(".")
    if parts[0] == "builtins":
        return getattr(builtins, parts[1], None) if len(parts) == 2 else None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except Exception:
            return None
        return obj
    return None


def params(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    out, kwonly_started = [], False
    for i, p in enumerate(sig.parameters.values()):
        if inspect.isclass(obj) and i == 0 and p.name == "self":
            continue
        if p.kind is p.VAR_POSITIONAL:
            out.append("*" + p.name)
            kwonly_started = True
        elif p.kind is p.KEYWORD_ONLY:
            if not kwonly_started:
                out.append("*")
                kwonly_started = True
            out.append(p.name)
        elif p.kind is p.VAR_KEYWORD:
            out.append("**" + p.name)
        else:
            out.append(p.name)
    return ",".join(out) or "-"


# Modules flagged whole whose members are also the library's public API
# (`torch.zeros` is defined in torch._C): spelling their members another way
# is not a way around the policy.
MEMBERS_ARE_PUBLIC_API = {"torch._C"}

sigs = {}
objects = {}  # id -> canonical policy path
for name, when in APIS:
    if name == "open":  # the policy's name for the builtin
        name = "builtins.open"
    obj = resolve(name)
    if obj is None:
        print(f"# not found: {name}", file=sys.stderr)
        continue
    if not isinstance(obj, types.ModuleType):
        objects.setdefault(id(obj), (name, obj))
    elif when.strip() == "always" and name not in MEMBERS_ARE_PUBLIC_API:
        # A whole module is dangerous: so is each function and class it
        # defines (not what it imports), wherever else it is reachable.
        for attr, value in vars(obj).items():
            home = getattr(value, "__module__", None) or ""
            defined_here = home == obj.__name__ or home.startswith(obj.__name__ + ".")
            if not attr.startswith("__") and defined_here and (inspect.isfunction(value) or inspect.isclass(value)):
                objects.setdefault(id(value), (f"{name}.{attr}", value))
    if when.strip() == "always":
        continue
    if isinstance(obj, types.ModuleType):
        # A condition on a whole module: every public callable in it.
        for attr, value in sorted(vars(obj).items()):
            if attr.startswith("_") or not callable(value) or isinstance(value, types.ModuleType):
                continue
            p = params(value)
            if p:
                sigs.setdefault(f"{name}.{attr}", p)
    else:
        p = params(obj)
        if p:
            sigs[name] = p

# The blocked submodules' objects (`torch.jit.script`) under other names too.
sub_block = policy.split("\nsubmodules:", 1)[1].split("\nsettings:", 1)[0]
for name in re.findall(r"^\s*- name: ([\w.]+)", sub_block, re.M):
    obj = resolve(name)
    if obj is not None and not isinstance(obj, types.ModuleType):
        objects.setdefault(id(obj), (name, obj))

# Every module already imported under an allowed root: which of its
# attributes are one of the policy's objects under another name.
aliases = {}
for modname, module in sorted(sys.modules.items()):
    if not allowed(modname) or not isinstance(module, types.ModuleType):
        continue
    try:
        items = list(vars(module).items())
    except TypeError:
        continue
    for attr, value in items:
        hit = objects.get(id(value))
        if hit is None or hit[1] is not value:
            continue
        path = f"{modname}.{attr}"
        if path != hit[0] and not path.startswith(hit[0] + "."):
            aliases[path] = hit[0]

versions = []
for lib in ("torch", "torchvision", "torchaudio", "transformers", "timm", "numpy", "scipy", "PIL", "cv2"):
    try:
        versions.append(f"{lib} {importlib.import_module(lib).__version__}")
    except Exception:
        pass
print("# Policy API signatures (`sig PATH PARAMS`) and other paths to the same objects (`alias PATH REAL`).")
print(f"# Generated by scripts/gen-api-objects.py with Python {sys.version.split()[0]}; {', '.join(versions)}.")
for path, p in sorted(sigs.items()):
    print("sig", path, p)
for path, real in sorted(aliases.items()):
    print("alias", path, real)
