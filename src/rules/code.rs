//! `P`: `model.py`.

declare_rules! {
    /// ## What it does
    /// Reports a `model.py` that is not valid Python, with the parser's message
    /// at the exact location.
    ///
    /// ## Why is this bad?
    /// The evaluator's import of the module fails, spending an upload slot.
    ///
    /// ## Example
    /// ```python
    /// def load_model(weights_path, num_classes=2)   # bad: missing colon
    /// ```
    SYNTAX_ERROR = "P001", "syntax-error", Error, "model.py is not valid Python";

    /// ## What it does
    /// Rejects a `model.py` that CPython would decode differently from what a
    /// reviewer reads: a PEP 263 coding cookie other than UTF-8 (`utf-7`,
    /// `unicode_escape`, `rot13`...), bytes that are not UTF-8, NUL bytes, and
    /// lone carriage returns.
    ///
    /// ## Why is this bad?
    /// With `# coding: utf-7`, text that looks like a comment to every editor
    /// and linter decodes to code for CPython. Lone `\r` line endings show as one
    /// line in some viewers and several to Python.
    ///
    /// ## Example
    /// ```python
    /// # -*- coding: utf-7 -*-
    /// # +AAo-import os   <- a comment to you, `import os` to CPython
    /// ```
    SOURCE_ENCODING = "P002", "source-encoding", Error, "model.py is not plain UTF-8 as CPython would read it";

    /// ## What it does
    /// Rejects Unicode bidirectional control characters (U+202A-U+202E,
    /// U+2066-U+2069, U+200E, U+200F, U+061C) anywhere in `model.py`.
    ///
    /// ## Why is this bad?
    /// "Trojan Source" (CVE-2021-42574): they reorder how code is displayed, so
    /// a reviewer sees a comment where the interpreter sees code.
    ///
    /// ## Example
    /// A string literal containing U+202E that hides a `return` after it.
    BIDI_CONTROL = "P003", "bidi-control-character", Error, "model.py contains bidirectional control characters";

    /// ## What it does
    /// Warns about identifiers with non-ASCII characters.
    ///
    /// ## Why is this bad?
    /// CPython NFKC-normalises identifiers, so `ｅｖａｌ` *is* `eval` and
    /// look-alike letters make two names that read the same differ. gasguard
    /// compares names after the same normalisation; the warning is for the
    /// human reviewer.
    ///
    /// ## Example
    /// ```python
    /// mοdel = build()   # the second letter is a Greek omicron
    /// ```
    NON_ASCII_IDENTIFIER = "P004", "non-ascii-identifier", Warning, "An identifier contains non-ASCII characters";

    /// ## What it does
    /// Rejects source beyond the policy's bounds: larger than
    /// `limits.python.max_bytes`, brackets or indentation nested deeper than
    /// `limits.python.max_depth`, or a single statement with more operators
    /// than any real code has.
    ///
    /// ## Why is this bad?
    /// Pathological input (100,000 nested brackets, 200,000-term expressions)
    /// exists to crash or stall analyzers; CPython itself refuses most of it.
    ///
    /// ## Example
    /// ```python
    /// x = ((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))  # ×10,000
    /// ```
    TOO_COMPLEX = "P005", "source-too-complex", Error, "model.py is larger or more deeply nested than the policy allows";

    /// ## What it does
    /// Warns about syntax that the oldest Python the evaluator supports
    /// (3.10) cannot parse: `match` is fine, but PEP 695 type parameters
    /// (`def f[T]()`, `type X = ...`), PEP 701 f-strings (nested same
    /// quotes, backslashes in replacement fields), `except*` and
    /// parenthesised context managers of newer versions are not.
    ///
    /// ## Why is this bad?
    /// The evaluator requires Python >= 3.10 and does not promise a newer
    /// one. On 3.10, importing model.py is a `SyntaxError`: the model never
    /// loads and the upload's slot is spent. gasguard itself parses every
    /// syntax up to 3.13, so without this warning such a file would pass.
    ///
    /// ## Example
    /// ```python
    /// def pick[T](xs: list[T]) -> T: ...     # warning: Python 3.12+
    /// f"{x["key"]}"                          # warning: Python 3.12+
    /// def pick(xs): ...                       # fine
    /// ```
    NEWER_SYNTAX = "P006", "newer-syntax", Warning, "Syntax newer than the evaluator's minimum Python (3.10)";

    /// ## What it does
    /// Rejects imports of modules that are not on the policy's allowlist, saying
    /// whether the module is explicitly blocked (and why) or merely not listed.
    /// Submodules of an allowed package are allowed unless blocked
    /// (`torch.nn.init`, `timm.models.layers`); `from __future__ import ...` is
    /// allowed. Imports inside functions and `try` blocks count the same.
    ///
    /// ## Why is this bad?
    /// The network's analyzer enforces the same allowlist; a blocked import
    /// fails the submission after upload.
    ///
    /// ## Example
    /// ```python
    /// import os                       # bad: system access
    /// import torch.nn.functional as F # good
    /// ```
    IMPORT_NOT_ALLOWED = "P101", "import-not-allowed", Error, "An imported module is blocked or not on the allowlist";

    /// ## What it does
    /// Rejects relative imports (`from . import x`) and star imports
    /// (`from torch import *`).
    ///
    /// ## Why is this bad?
    /// `model.py` is imported alone, so relative imports fail; a star import
    /// binds names nobody can see, which defeats review.
    ///
    /// ## Example
    /// ```python
    /// from .layers import Block   # bad
    /// from torch.nn import *      # bad
    /// from torch.nn import Conv2d # good
    /// ```
    RELATIVE_OR_STAR_IMPORT = "P102", "relative-or-star-import", Error, "A relative or star import";

    /// ## What it does
    /// Rejects the policy's blocked submodules and their members however they
    /// are reached: imported, through an attribute chain, or through an alias
    /// (`t = torch.utils; t.cpp_extension.load_inline(...)`).
    ///
    /// ## Why is this bad?
    /// `torch.utils.cpp_extension` compiles and loads native code;
    /// `torch.jit.script`/`trace` compile TorchScript; `numpy.ctypeslib` loads
    /// native libraries.
    ///
    /// ## Example
    /// ```python
    /// from torch.utils.cpp_extension import load_inline   # bad
    /// ```
    BLOCKED_SUBMODULE = "P103", "blocked-submodule", Error, "A blocked submodule is reached";

    /// ## What it does
    /// Rejects every reference, called or not, to builtins that run or reach
    /// arbitrary code: `eval`, `exec`, `compile`, `__import__`, `getattr`,
    /// `setattr`, `globals`, `locals` (the published list) and, in the
    /// policy's own groups, `vars`, `delattr`, `__builtins__`, `__loader__`,
    /// `__spec__` (the same power by another name), `breakpoint`, `help`,
    /// `input` (debugger, pydoc pager, terminal) and `exit`, `quit` (they end
    /// the evaluator's process). The list is `calls.blocked` in the policy
    /// file. A local variable or parameter with the same name (such as
    /// `forward(self, input)`) is not the builtin and is not flagged.
    ///
    /// ## Why is this bad?
    /// `getattr(torch, "o" + "s")` reaches any module; `e = eval` hides a call
    /// from name-based checks, so the reference itself is what counts.
    ///
    /// ## Example
    /// ```python
    /// fn = getattr(nn, name)        # bad
    /// fn = {"relu": nn.ReLU}[name]  # good
    /// ```
    BLOCKED_BUILTIN = "P104", "blocked-builtin", Error, "A blocked builtin is referenced";

    /// ## What it does
    /// Rejects `open()` in a writing mode (`w`, `a`, `x`, `+`) or with a mode
    /// that is not a literal; warns about `open()` for reading. The
    /// `.open(mode)` method of objects gasguard cannot type (a
    /// `pathlib.Path`) is judged by its literal mode the same way.
    ///
    /// ## Why is this bad?
    /// The model must not write files. Reading is allowed (a `config.json`
    /// beside the model) but worth a look.
    ///
    /// ## Example
    /// ```python
    /// open("/tmp/x", "w")                                  # bad
    /// Path("/tmp/x").open("a")                             # bad
    /// json.load(open(Path(__file__).parent / "config.json"))  # warning
    /// ```
    OPEN_CALL = "P105", "open-call", Warning, "open() is used (an error when it writes)";

    /// ## What it does
    /// Rejects attribute chains from an allowed module to a module off the
    /// allowlist: `torch.os`, `torch.sys`, `typing.sys`, `collections._sys`,
    /// `enum.bltns`, `pathlib.os`... The table of such attributes is generated
    /// from the evaluator's installed libraries (`rules/module-attributes.txt`,
    /// `scripts/gen-module-attributes.py`); any chain segment named like a
    /// blocked module is flagged too.
    ///
    /// ## Why is this bad?
    /// `import torch` is allowed and `torch.os.system("...")` is `os.system`.
    /// Libraries carry the modules they import as attributes, sometimes
    /// renamed; a name list cannot keep up, a generated table can.
    ///
    /// ## Example
    /// ```python
    /// torch.os.system("id")   # bad
    /// ```
    MODULE_VIA_ATTRIBUTE = "P106", "module-via-attribute", Error, "A blocked or unlisted module is reached through an allowed module's attribute";

    /// ## What it does
    /// Denies dunder attributes by default: reading or writing any `__x__`
    /// attribute is an error unless it is on the allowlist, wherever the
    /// attribute name appears: `obj.__x__`, a `match` class pattern's keyword
    /// (`case object(__class__=c)` reads `subject.__class__`), a
    /// `from m import __x__`, a `str.format` / `format_map` field
    /// (`"{0.__class__}"`) or a string annotation. Also denied: the frame and
    /// code attributes `mro`, `gi_frame`, `gi_code`, `cr_frame`, `cr_code`,
    /// `ag_frame`, `f_back`, `f_globals`, `f_locals`, `f_builtins`, `f_code`,
    /// `tb_frame`, `tb_next`, `co_code`, and string annotations holding calls.
    ///
    /// The allowlist (what real models need, none of which reaches code
    /// objects, frames, globals or the import system): `__init__`,
    /// `__call__`, the container, context-manager, comparison, conversion and
    /// arithmetic protocol methods (`__len__`, `__getitem__`, `__enter__`,
    /// `__eq__`, `__add__`...), `__post_init__`, `__array__`, and the plain
    /// metadata `__name__`, `__qualname__`, `__doc__`, `__module__`,
    /// `__version__`, `__all__`, `__slots__`, `__constants__`. Defining any
    /// dunder method is fine; so is `super().__init__()`. Denied examples:
    /// `__class__`, `__subclasses__`, `__globals__`, `__dict__`, `__wrapped__`
    /// (unwraps a library function), `__annotations__` (libraries evaluate
    /// string annotations), `__reduce__`, `__builtins__`.
    ///
    /// Two stores are judged by their value instead: `f.__annotations__[k] =
    /// v` (or a dict literal for all of it) on a function or class of
    /// model.py without decorators, whose strings are checked as the
    /// string annotations they become (one gasguard cannot list is P114),
    /// and `f.__wrapped__ = g`, allowed when `g` is a function or class of
    /// model.py (`typing.get_type_hints` evaluates annotations in the
    /// globals of `__wrapped__`). Strings anywhere inside an annotation
    /// (`Optional["x"]`) and given to `typing.ForwardRef` are string
    /// annotations too.
    ///
    /// ## Why is this bad?
    /// `().__class__.__base__.__subclasses__()` reaches every class loaded in
    /// the interpreter, and from there `os` and `subprocess`, without importing
    /// anything.
    ///
    /// ## Example
    /// ```python
    /// name = self.__class__.__name__   # bad: use type(self).__name__
    /// ```
    DUNDER_ACCESS = "P107", "introspection-attribute", Error, "An attribute that reaches code, frames or globals is accessed";

    /// ## What it does
    /// Rejects dangerous APIs of allowed libraries, listed with a reason each in
    /// the policy (`apis:` and `methods:`): `torch.load` and other unpickling,
    /// `torch.hub`, native library loading, `torch.compile`, multiprocessing and
    /// distributed, `from_pretrained` of a Hub name or with
    /// `trust_remote_code=True`, `timm.create_model(pretrained=True)`,
    /// torchvision `weights=`, URLs passed to `cv2`/`PIL`, and `pathlib.Path`
    /// methods that write, move or delete (judged by the receiver's inferred
    /// type: `Path(p).rename(q)`).
    ///
    /// An API is recognised by what it is, not how it is spelt: every other
    /// attribute path inside an allowed module that is the same object
    /// (`timm.models.create_model` is `timm.create_model`,
    /// `torch.serialization.load` is `torch.load`) comes from
    /// `rules/api-objects.txt`, generated from the evaluator's libraries
    /// (`scripts/gen-api-objects.py`). A condition (`pretrained=True`) is
    /// judged on the argument's inferred value, bound to the API's real
    /// signature: literals, constants, defaults, `**{...}`, positional
    /// arguments, and what every call site passes. A proven value is this
    /// rule; a value that cannot be proven is P114 (error) or P115 (warning).
    ///
    /// ## Why is this bad?
    /// Each reaches what the policy's blocked modules stand for (code
    /// execution, network, file writes). The download cases also simply fail in
    /// the offline evaluator: catching them before upload saves a slot.
    ///
    /// ## Example
    /// ```python
    /// timm.create_model("resnet50", pretrained=True)           # bad: downloads
    /// timm.create_model("resnet50", pretrained=False)          # good
    /// AutoModel.from_config(AutoConfig.from_pretrained(here))  # good: local folder
    /// ```
    DANGEROUS_API = "P108", "dangerous-api", Error, "A dangerous API of an allowed library is used";

    /// ## What it does
    /// Requires `load_model` to be defined exactly once, at module level, as a
    /// function whose signature accepts a positional weights path,
    /// `num_classes`, and every other key under `model:` in
    /// `model_config.yaml` (as a parameter or through `**kwargs`).
    ///
    /// ## Why is this bad?
    /// The evaluator calls `load_model(path, **model_section)`. When that does
    /// not bind, it falls back to `load_model(path, num_classes=...)` and
    /// silently drops the rest of your configuration.
    ///
    /// ## Example
    /// ```python
    /// def load_model(weights_path, num_classes=2, **kwargs): ...   # good
    /// def load_model(path): ...                                    # bad: no num_classes
    /// ```
    LOAD_MODEL_SIGNATURE = "P109", "load-model-signature", Error, "load_model is missing or cannot accept the evaluator's call";

    /// ## What it does
    /// Warns about statements at module level other than imports, definitions,
    /// assignments, docstrings, `try` blocks around imports, and an
    /// `if __name__ == "__main__":` block.
    ///
    /// ## Why is this bad?
    /// They run when the evaluator imports the module, before `load_model`,
    /// and are a common place to hide work.
    ///
    /// ## Example
    /// ```python
    /// print("loading")              # warning
    /// if __name__ == "__main__":    # fine
    ///     print(load_model("model.safetensors"))
    /// ```
    MODULE_SIDE_EFFECT = "P110", "module-level-side-effect", Warning, "Code runs at import time";

    /// ## What it does
    /// Rejects a name whose possible values gasguard cannot enumerate: a name
    /// rebound from itself (`t = torch` then `t = t.hub`), alias chains more
    /// than 64 names deep, or more possibilities than gasguard follows for
    /// one name; and a name bound nowhere in model.py that is not a builtin
    /// (it can only exist if something injects it at run time).
    ///
    /// ## Why is this bad?
    /// Every other check works on the dotted paths a name may hold. When they
    /// cannot all be listed, a blocked API could hide behind the one that was
    /// not; the gate fails closed instead. Ordinary code never needs this: a
    /// name rebound from a call (`x = x.view(...)`) or a parameter
    /// (`x = x.T`) holds no module and is not reported.
    ///
    /// ## Example
    /// ```python
    /// t = torch
    /// t = t.hub          # error: `t` may be torch, torch.hub, torch.hub.hub...
    /// hub = torch.hub    # say what you mean (and P108 will judge it)
    /// ```
    UNRESOLVABLE_NAME = "P111", "unresolvable-name", Error, "A name's possible values cannot be enumerated";

    /// ## What it does
    /// Rejects a module used as a value where gasguard stops following it:
    /// passed to a library function (`print` and the other introspection
    /// builtins only look), stored on a library object or a class,
    /// returned or yielded by a function something else may call, used as a
    /// `with` subject, an operand (`==`, `+`: a class may define `__eq__`),
    /// or a lambda's body; and a container (list, tuple, set, dict,
    /// comprehension) holding one, used in such a place or through a method
    /// gasguard does not follow (`sort`, `__iter__` of a library). The same
    /// holds for an API whose danger depends on its arguments
    /// (`timm.create_model`, `numpy.load`) and for a path not proven inside
    /// the submission. An annotation is such a place too
    /// (`typing.get_type_hints` hands back what it evaluates to): one naming
    /// a module, such an API function or a builtin other than a type (`x: "open"`) is
    /// an error.
    ///
    /// What is followed, and so allowed: names in every scope (`nn =
    /// torch.nn`, class attributes, `global`, walrus), containers built in
    /// model.py and what is stored into them anywhere (`d[k] = v`,
    /// `l.append(v)`, `l += [v]`), read back by index, key, iteration,
    /// unpacking, `match` patterns, `get`/`pop`/`keys`/`values`/`items`/
    /// `copy`, `list()`/`tuple()`/`enumerate()`/`zip()`/`next()`; the file's
    /// own functions' parameters (`*args`, `**kwargs`, `f(*xs)`, `f(**d)`
    /// included) and returns; attributes stored on the file's instances and
    /// functions (`self.backbone_lib = timm`), and properties. An API judged
    /// by its arguments (or a path not proven inside the submission) may be
    /// stored there only when no library can find it: the instance's class
    /// family has no base outside model.py, no decorator, metaclass or
    /// `__setattr__`/`__getattr__`-like hook, and no instance of it (nor a
    /// bound method) reaches a place gasguard does not follow; the function
    /// does not escape. `functools.partial(api, ...)` is a value: each call
    /// of it is judged as a call of `api` with the bound arguments first,
    /// and where it goes unfollowed, `api` and the bound values go with it.
    ///
    /// Which of the file's functions are "something else may call" is
    /// worked out from where their values flow: a function, lambda or
    /// class escapes when a value that may be it (or a container holding
    /// it) reaches one of the places above, a stored attribute, an
    /// operator, a decorator gasguard does not follow, `raise`, a class
    /// body's attributes, what `load_model` returns, a call its parameters
    /// do not count (made through a parameter), or an attribute read on an
    /// object gasguard cannot see into (every method of that name). Dunders
    /// and methods a library base may call escape always. The checks are
    /// re-run until no new escape appears (P111 past 8 rounds). So
    /// closures returned and called (`make(x)()`), lambdas bound to names,
    /// generators (`next(gen(x))`, `for y in gen(x)`: a followed
    /// generator's call holds what it yields; its `return` value escapes),
    /// and plain decorators of model.py (their first parameter takes the
    /// function, the name what they return) are followed.
    ///
    /// ## Why is this bad?
    /// Once a module reaches code gasguard cannot see, what is reached
    /// through it (`lib_fn(torch)` calling `.hub.load`) can no longer be
    /// resolved, and a blocked API would pass unseen. Model code has no need
    /// to hand modules to libraries.
    ///
    /// ## Example
    /// ```python
    /// backends = {"t": torch}
    /// backends["t"].hub.load(...)      # followed: P108 judges torch.hub.load
    /// print(backends)                  # fine: print only looks
    /// sorted(backends.values(), key=f) # error: f gets torch, unfollowed
    /// nn = torch.nn                    # fine: a name gasguard follows
    /// ```
    MODULE_AS_VALUE = "P112", "module-as-value", Error, "A module is used as a value gasguard cannot follow";

    /// ## What it does
    /// Rejects assigning or deleting an attribute of a library module or
    /// class (`torch.nn.functional.softmax = ...`, `torch.Tensor.argmax =
    /// ...`, `del torch.load`), except the switches the policy lists under
    /// `settings` (`torch.backends.cudnn.benchmark = True`).
    ///
    /// ## Why is this bad?
    /// The evaluator imports model.py into its own process, next to its own
    /// code. Patching a library changes how the evaluator itself computes:
    /// its preprocessing, its metrics, what it later loads. A model has no
    /// reason to change the libraries it runs on.
    ///
    /// ## Example
    /// ```python
    /// torch.Tensor.argmax = lambda self, *a, **k: ...   # error
    /// torch.backends.cudnn.benchmark = True             # fine: a setting
    /// ```
    LIBRARY_MUTATION = "P113", "library-mutation", Error, "A library's module or class is modified";

    /// ## What it does
    /// Rejects a call of an API whose danger depends on an argument (a file
    /// mode, `allow_pickle`, `trust_remote_code`, `checkpoint_path`,
    /// `num_workers`, the string `typing.ForwardRef` evaluates, the
    /// namespaces `typing.get_type_hints` evaluates in) when the argument's
    /// value cannot be proven safe, and a value stored into `__annotations__`
    /// that gasguard cannot list (from the weights' metadata, say). gasguard
    /// follows each argument the way Python would: literals, module
    /// constants, parameter defaults, the values every call site of the
    /// enclosing function passes (model.py is called only by itself and by
    /// the evaluator, whose `load_model(weights_path, **model)` takes its
    /// values from `model_config.yaml`), `**{...}` unpacking, and parameters
    /// passed by position, bound to the API's real signature
    /// (`rules/api-objects.txt`, generated from the evaluator's libraries).
    /// What it cannot follow (a value read from a tensor, a file or an
    /// object attribute set by a library) is unknown; unknown at a sink that
    /// can run code, unpickle, load native code, start processes or write
    /// files is an error. The message names the value and where it came
    /// from.
    ///
    /// ## Why is this bad?
    /// A gate that only reads literal keywords is walked around with
    /// `**{"allow_pickle": True}`, a positional argument or a variable. Failing
    /// closed on what cannot be proven keeps the static check sound on its
    /// own.
    ///
    /// ## Example
    /// ```python
    /// flag = config_value()                    # gasguard cannot follow it
    /// np.load(path, allow_pickle=flag)         # error: may be True
    /// np.load(path, allow_pickle=False)        # fine
    /// ```
    UNPROVEN_VALUE = "P114", "unproven-value", Error, "An argument that decides whether a call runs code or writes cannot be proven safe";

    /// ## What it does
    /// Warns about a call that may reach the network depending on an argument
    /// gasguard cannot prove (`pretrained=`, torchvision `weights=`, the
    /// model name given to `from_pretrained`, a URL given to a reader).
    /// Values are followed as for P114.
    ///
    /// ## Why is this bad?
    /// The evaluator runs without network: a download fails the submission.
    /// A download cannot run code by itself, so this is a warning; the
    /// sandbox run (`--sandbox on`) settles it.
    ///
    /// ## Example
    /// ```python
    /// timm.create_model(name, pretrained=self.cfg.pretrained)   # warning
    /// timm.create_model(name, pretrained=False)                 # fine
    /// ```
    UNPROVEN_NETWORK = "P115", "unproven-network", Warning, "A call may download, depending on a value gasguard cannot prove";

    /// ## What it does
    /// Notes a finding in code that never runs when the evaluator loads the
    /// model: a function or method that nothing live calls (the module body,
    /// `load_model`, and the model's methods are live, and so is everything
    /// they reference by name), or a branch under a condition proven false
    /// (`if pretrained:` where every call passes `pretrained=False`,
    /// `if __name__ == "__main__":`). The note carries the original finding
    /// and its code. The published policy's own rules (P101-P104) stay errors
    /// there: the network's analyzer rejects them wherever they are.
    ///
    /// ## Why is this bad?
    /// It is not, today: training helpers and download branches that never
    /// run are common in real submissions. The note is there so that a
    /// change that makes them reachable does not come as a surprise.
    ///
    /// ## Example
    /// ```python
    /// def train():                      # never called by load_model
    ///     m = timm.create_model("vit_base_patch16_224", pretrained=True)  # note
    /// ```
    NEVER_RUNS = "P116", "never-runs", Info, "A finding in code the evaluator never runs";
}
