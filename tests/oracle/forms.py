"""The forms a generated program is composed of (tests/oracle/generate.py):
binding forms, passing forms and use forms, each a function that writes
lines of Python, and the helpers some of them need.

A binding form gets the value expression and a continuation `rest(accessor)`
that returns the lines using the bound value; it places them where the name
is visible (after an assignment, inside a `with`, an `except` handler, a
function whose parameter it is...). A passing form does the same for the
accessor it is given; a use form writes the lines that use it.
"""

INDENT = "    "


def indent(lines, n=1):
    return [INDENT * n + line if line else line for line in lines]


class Names:
    """Fresh names for one program (deterministic: a counter)."""

    def __init__(self):
        self.count = 0
        self.helpers = set()
        self.imports = set()
        self.constants = []

    def fresh(self, stem):
        self.count += 1
        return f"{stem}{self.count}"


# --- binding forms: (value expression, continuation) -> lines ---------------
# `rest(accessor)` returns the lines that use the bound value through
# `accessor`; they are placed where the name is visible.


def b_assign(v, rest, c):
    n = c.fresh("obj")
    return [f"{n} = {v}", *rest(n)]


def b_tuple(v, rest, c):
    n = c.fresh("obj")
    return [f"{n}, _unused = {v}, 0", *rest(n)]


def b_list_target(v, rest, c):
    n = c.fresh("obj")
    return [f"[_unused, {n}] = [0, {v}]", *rest(n)]


def b_nested_target(v, rest, c):
    n = c.fresh("obj")
    return [f"(_unused, ({n}, _unused2)) = (0, ({v}, 0))", *rest(n)]


def b_starred_target(v, rest, c):
    n = c.fresh("obj")
    return [f"*_unused, {n} = 0, {v}", *rest(n)]


def b_star_rest(v, rest, c):
    n = c.fresh("obj")
    return [f"_unused, *{n} = 0, {v}", *rest(f"{n}[0]")]


def b_chained(v, rest, c):
    n = c.fresh("obj")
    return [f"_unused = {n} = {v}", *rest(n)]


def b_annotated(v, rest, c):
    n = c.fresh("obj")
    return [f"{n}: object = {v}", *rest(n)]


def b_augmented(v, rest, c):
    n = c.fresh("obj")
    return [f"{n} = []", f"{n} += [{v}]", *rest(f"{n}[0]")]


def b_conditional(v, rest, c):
    n = c.fresh("obj")
    return [f"if len({n!r}) > 0:", f"    {n} = {v}", "else:", f"    {n} = None", *rest(n)]


def b_for(v, rest, c):
    n = c.fresh("obj")
    return [f"for {n} in ({v},):", *indent(rest(n))]


def b_for_tuple(v, rest, c):
    n = c.fresh("obj")
    return [f"for _i, {n} in enumerate(({v},)):", *indent(rest(n))]


def b_async_for(v, rest, c):
    n = c.fresh("obj")
    c.helpers |= {"aiter", "drive"}
    return [f"async def {n}_run():", f"    async for {n} in _AIter({v}):", *indent(rest(n), 2), f"_drive({n}_run())"]


def b_with(v, rest, c):
    n = c.fresh("obj")
    c.helpers.add("ctx")
    return [f"with _Ctx({v}) as {n}:", *indent(rest(n))]


def b_with_tuple(v, rest, c):
    n = c.fresh("obj")
    c.helpers.add("ctx")
    return [f"with _Ctx(({v}, 0)) as ({n}, _unused):", *indent(rest(n))]


def b_async_with(v, rest, c):
    n = c.fresh("obj")
    c.helpers |= {"actx", "drive"}
    return [f"async def {n}_run():", f"    async with _ACtx({v}) as {n}:", *indent(rest(n), 2), f"_drive({n}_run())"]


def b_except(v, rest, c):
    n = c.fresh("obj")
    c.helpers.add("boxed")
    return ["try:", f"    raise _Boxed({v})", f"except _Boxed as {n}:", *indent(rest(f"{n}.args[0]"))]


def b_except_star(v, rest, c):
    n = c.fresh("obj")
    c.helpers.add("boxed")
    return ["try:", f"    raise _Boxed({v})", f"except* _Boxed as {n}:", *indent(rest(f"{n}.exceptions[0].args[0]"))]


def b_walrus(v, rest, c):
    n = c.fresh("obj")
    return [f"({n} := {v})", *rest(n)]


def b_walrus_in_if(v, rest, c):
    n = c.fresh("obj")
    return [f"if ({n} := {v}) is not None:", *indent(rest(n))]


def b_walrus_comprehension(v, rest, c):
    # PEP 572: the target binds in the enclosing (function or module) scope.
    n = c.fresh("obj")
    return [f"[({n} := _c) for _c in ({v},)]", *rest(n)]


def b_listcomp(v, rest, c):
    n = c.fresh("obj")
    return [f"{n} = [{n}c for {n}c in ({v},)][0]", *rest(n)]


def b_genexp(v, rest, c):
    n = c.fresh("obj")
    return [f"{n} = next({n}c for {n}c in ({v},))", *rest(n)]


def b_dictcomp(v, rest, c):
    n = c.fresh("obj")
    return [f"{n} = {{_k: {n}c for _k, {n}c in (('k', {v}),)}}['k']", *rest(n)]


def b_match_capture(v, rest, c):
    n = c.fresh("obj")
    return [f"match {v}:", f"    case {n}:", *indent(rest(n), 2)]


def b_match_sequence(v, rest, c):
    n = c.fresh("obj")
    return [f"match (0, {v}):", f"    case (0, {n}):", *indent(rest(n), 2)]


def b_match_star(v, rest, c):
    n = c.fresh("obj")
    return [f"match (0, {v}):", f"    case (0, *{n}):", *indent(rest(f"{n}[0]"), 2)]


def b_match_mapping(v, rest, c):
    n = c.fresh("obj")
    return [f"match {{'k': {v}}}:", f"    case {{'k': {n}}}:", *indent(rest(n), 2)]


def b_match_mapping_rest(v, rest, c):
    n = c.fresh("obj")
    return [f"match {{'k': {v}}}:", f"    case {{**{n}}}:", *indent(rest(f"{n}['k']"), 2)]


def b_match_as(v, rest, c):
    n = c.fresh("obj")
    return [f"match {v}:", f"    case object() as {n}:", *indent(rest(n), 2)]


def b_match_or(v, rest, c):
    n = c.fresh("obj")
    return [f"match (0, {v}):", f"    case (1, {n}) | (0, {n}):", *indent(rest(n), 2)]


def b_match_class_keyword(v, rest, c):
    n = c.fresh("obj")
    c.helpers.add("box")
    return [f"match _Box({v}):", f"    case _Box(v={n}):", *indent(rest(n), 2)]


def b_import_as(v, rest, c):
    n = c.fresh("obj")
    head, _, last = v.rpartition(".")
    line = f"from {head} import {last} as {n}" if head else f"import {v} as {n}"
    return [line, *rest(n)]


def b_def_default(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_f({n}={v}):", *indent(rest(n) or ["pass"]), f"{n}_f()"]


def b_def_param(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_f({n}):", *indent(rest(n) or ["pass"]), f"{n}_f({v})"]


def b_def_kwonly(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_f(*, {n}):", *indent(rest(n) or ["pass"]), f"{n}_f({n}={v})"]


def b_def_posonly(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_f({n}, /):", *indent(rest(n) or ["pass"]), f"{n}_f({v})"]


def b_def_varargs(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_f(*{n}):", *indent(rest(f"{n}[0]") or ["pass"]), f"{n}_f({v})"]


def b_def_varkw(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_f(**{n}):", *indent(rest(f"{n}['k']") or ["pass"]), f"{n}_f(k={v})"]


def b_lambda_default(v, rest, c):
    n = c.fresh("obj")
    return [f"{n}_get = lambda {n}={v}: {n}", *rest(f"{n}_get()")]


def b_lambda_param(v, rest, c):
    n = c.fresh("obj")
    return [f"{n}_get = (lambda {n}: lambda: {n})({v})", *rest(f"{n}_get()")]


def b_class_body(v, rest, c):
    n = c.fresh("obj")
    return [f"class {n}_K:", f"    {n} = {v}", *indent(rest(n))]


def b_decorator(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_deco(_fn, _v={v}):", "    return _v", f"@{n}_deco", f"def {n}():", "    pass", *rest(n)]


def b_global(v, rest, c):
    n = c.fresh("obj")
    return [f"def {n}_set():", f"    global {n}", f"    {n} = {v}", f"{n}_set()", *rest(n)]


def b_nonlocal(v, rest, c):
    n = c.fresh("obj")
    return [
        f"def {n}_outer():",
        f"    {n} = None",
        f"    def {n}_inner():",
        f"        nonlocal {n}",
        f"        {n} = {v}",
        f"    {n}_inner()",
        *indent(rest(n)),
        f"{n}_outer()",
    ]


def b_del(v, rest, c):
    n = c.fresh("obj")
    return [f"{n} = {v}", f"{n}_keep = [{n}]", f"del {n}", f"{n} = {n}_keep.pop()", *rest(n)]


BINDINGS = {name[2:].replace("_", "-"): f for name, f in list(globals().items()) if name.startswith("b_")}
# Forms whose continuation runs in a class body: a nested function or class
# cannot see the class's names, so passing forms that read the accessor from
# a nested scope do not apply.
CLASS_SCOPE_BINDINGS = {"class-body"}

# --- passing forms: (accessor, continuation) -> lines -------------------------
# The accessor is evaluated in the current scope (arguments, defaults), so a
# passing form works wherever its binding put the continuation.


def p_direct(a, rest, c):
    return rest(a)


def p_list(a, rest, c):
    p = c.fresh("held")
    return [f"{p} = [{a}]", *rest(f"{p}[0]")]


def p_dict(a, rest, c):
    p = c.fresh("held")
    return [f"{p} = {{'k': {a}}}", *rest(f"{p}['k']")]


def p_nested_container(a, rest, c):
    p = c.fresh("held")
    return [f"{p} = {{'a': [({a},)]}}", *rest(f"{p}['a'][0][0]")]


def p_global_dict(a, rest, c):
    return [f"_CFG['oracle_obj'] = {a}", *rest("_CFG['oracle_obj']")]


def p_unpacking(a, rest, c):
    p = c.fresh("held")
    return [f"(_unused, {p}) = (0, {a})", *rest(p)]


def p_star_unpacking(a, rest, c):
    p = c.fresh("held")
    return [f"*{p}, = ({a},)", *rest(f"{p}[0]")]


def p_class_attribute(a, rest, c):
    p = c.fresh("Held")
    return [f"class {p}:", f"    h = {a}", *rest(f"{p}.h")]


def p_instance_attribute(a, rest, c):
    p = c.fresh("Held")
    return [f"class {p}:", "    def __init__(self, v):", "        self.h = v", *rest(f"{p}({a}).h")]


def p_property(a, rest, c):
    p = c.fresh("Held")
    return [
        f"class {p}:",
        "    def __init__(self, v):",
        "        self._v = v",
        "    @property",
        "    def v(self):",
        "        return self._v",
        *rest(f"{p}({a}).v"),
    ]


def p_closure(a, rest, c):
    p = c.fresh("held")
    return [f"def {p}_make(_v):", "    def _get():", "        return _v", "    return _get", f"{p} = {p}_make({a})", *rest(f"{p}()")]


def p_default(a, rest, c):
    p = c.fresh("held")
    return [f"def {p}_get(_v={a}):", "    return _v", *rest(f"{p}_get()")]


def p_decorator(a, rest, c):
    p = c.fresh("held")
    return [
        f"def {p}_deco(_v):",
        "    def _apply(_fn):",
        "        _fn.payload = _v",
        "        return _fn",
        "    return _apply",
        f"@{p}_deco({a})",
        f"def {p}_fn():",
        "    pass",
        *rest(f"{p}_fn.payload"),
    ]


def p_return(a, rest, c):
    p = c.fresh("held")
    return [f"def {p}_ret(_v):", "    return _v", *rest(f"{p}_ret({a})")]


def p_kwargs(a, rest, c):
    p = c.fresh("held")
    return [f"def {p}_kw(**_k):", "    return _k['v']", *rest(f"{p}_kw(**{{'v': {a}}})")]


def p_varargs(a, rest, c):
    p = c.fresh("held")
    return [f"def {p}_va(*_a):", "    return _a[-1]", *rest(f"{p}_va(*[{a}])")]


def p_generator(a, rest, c):
    p = c.fresh("held")
    return [f"def {p}_gen(_v):", "    yield _v", *rest(f"next({p}_gen({a}))")]


PASSINGS = {name[2:].replace("_", "-"): f for name, f in list(globals().items()) if name.startswith("p_")}
CLASS_SCOPE_PASSINGS = {"class-attribute"}

# --- use forms: (accessor, variant) -> lines ---------------------------------


def _kw(variant):
    return [f"{k}={e}" for k, e in variant["kwargs"]]


def _call(callee, variant, arglist):
    return variant["wrap"].format(f"{callee}({', '.join(arglist)})")


def _callee(acc, variant, attr):
    return f"{acc}.{variant['tail']}" if attr and variant["tail"] else acc


def u_positional(acc, v, c, attr=False):
    return [_call(_callee(acc, v, attr), v, [*v["args"], *_kw(v)])]


def u_keyword(acc, v, c, attr=False):
    return [_call(_callee(acc, v, attr), v, [f"{k}={e}" for k, e in zip(v["argnames"], v["args"])] + _kw(v))]


def u_star_args(acc, v, c, attr=False):
    kw = ", ".join(f"{k!r}: {e}" for k, e in v["kwargs"])
    return [_call(_callee(acc, v, attr), v, [f"*[{', '.join(v['args'])}]", f"**{{{kw}}}"])]


def u_kwargs_unpacking(acc, v, c, attr=False):
    pairs = [*zip(v["argnames"], v["args"]), *v["kwargs"]]
    kw = ", ".join(f"{k!r}: {e}" for k, e in pairs)
    return [_call(_callee(acc, v, attr), v, [f"**{{{kw}}}"])]


def u_variables(acc, v, c, attr=False):
    lines, names = [], []
    for e in v["args"]:
        n = c.fresh("arg")
        lines.append(f"{n} = {e}")
        names.append(n)
    kws = []
    for k, e in v["kwargs"]:
        n = c.fresh("arg")
        lines.append(f"{n} = {e}")
        kws.append(f"{k}={n}")
    return [*lines, _call(_callee(acc, v, attr), v, [*names, *kws])]


def u_fstring(acc, v, c, attr=False):
    lines, args = [], []
    for e in v["args"]:
        if _is_str_literal(e):
            s = eval(e)  # a literal the generator wrote
            h = c.fresh("part")
            t = c.fresh("part")
            lines += [f"{h} = {s[: len(s) // 2]!r}", f"{t} = {s[len(s) // 2 :]!r}"]
            args.append(f'f"{{{h}}}{{{t}}}"')
        else:
            args.append(e)
    return [*lines, _call(_callee(acc, v, attr), v, [*args, *_kw(v)])]


def u_constants(acc, v, c, attr=False):
    names = []
    for e in [*v["args"], *(e for _, e in v["kwargs"])]:
        n = c.fresh("ORACLE_ARG")
        c.constants.append(f"{n} = {e}")
        names.append(n)
    pos = names[: len(v["args"])]
    kws = [f"{k}={n}" for (k, _), n in zip(v["kwargs"], names[len(v["args"]) :])]
    return [_call(_callee(acc, v, attr), v, [*pos, *kws])]


def u_parameter_defaults(acc, v, c, attr=False):
    n = c.fresh("call")
    params = ["_f", *(f"_a{i}={e}" for i, e in enumerate(v["args"])), *(f"_k{i}={e}" for i, (_, e) in enumerate(v["kwargs"]))]
    inner = [*(f"_a{i}" for i in range(len(v["args"]))), *(f"{k}=_k{i}" for i, (k, _) in enumerate(v["kwargs"]))]
    return [f"def {n}({', '.join(params)}):", f"    return _f({', '.join(inner)})", v["wrap"].format(f"{n}({_callee(acc, v, attr)})")]


def u_partial(acc, v, c, attr=False):
    c.imports.add("import functools")
    return [v["wrap"].format(f"functools.partial({_callee(acc, v, attr)}, {', '.join([*v['args'], *_kw(v)])})()")]


def _is_str_literal(e):
    return e[:1] in "'\"" and e[-1:] == e[:1]


USES = {}
for _name, _f in list(globals().items()):
    if _name.startswith("u_"):
        _stem = _name[2:].replace("_", "-")
        USES["call-" + _stem] = (_f, False)
        USES["attr-" + _stem] = (_f, True)


def use_applies(use, v):
    f, attr = USES[use]
    if attr and not v["tail"]:
        return False
    if f in (u_keyword, u_kwargs_unpacking) and (v["argnames"] is None or len(v["argnames"]) != len(v["args"])):
        return False
    if f is u_fstring and not any(_is_str_literal(e) for e in v["args"]):
        return False
    if f is u_partial and not (v["args"] or v["kwargs"]):
        return False
    if f is u_constants and v["config"]:
        return False  # module constants are evaluated before load_model receives the config
    return True


def value_of(v, attr):
    """What the binding form binds: the base (the use adds the tail) or the callable."""
    if attr or not v["tail"]:
        return v["base"]
    return f"{v['base']}.{v['tail']}"


def binding_applies(binding, v, attr):
    if binding == "import-as":
        if not v["dotted"]:
            return False
        # `from a.b import c` needs a.b to be a module: true of every dotted
        # base's prefix, and of the base itself only when the source says so.
        return attr or not v["tail"] or v["importable"]
    return True


def passing_applies(passing, binding):
    return not (binding in CLASS_SCOPE_BINDINGS and passing in CLASS_SCOPE_PASSINGS)


# --- helpers some forms need ----------------------------------------------

HELPERS = {
    "box": ["class _Box:", "    def __init__(self, v):", "        self.v = v"],
    "boxed": ["class _Boxed(Exception):", "    pass"],
    "ctx": ["class _Ctx:", "    def __init__(self, v):", "        self.v = v", "    def __enter__(self):", "        return self.v", "    def __exit__(self, *exc):", "        return False"],
    "actx": ["class _ACtx:", "    def __init__(self, v):", "        self.v = v", "    async def __aenter__(self):", "        return self.v", "    async def __aexit__(self, *exc):", "        return False"],
    "aiter": [
        "class _AIter:",
        "    def __init__(self, v):",
        "        self.items = [v]",
        "    def __aiter__(self):",
        "        return self",
        "    async def __anext__(self):",
        "        if not self.items:",
        "            raise StopAsyncIteration",
        "        return self.items.pop()",
    ],
    "drive": ["def _drive(coro):", "    try:", "        coro.send(None)", "    except StopIteration:", "        pass"],
}
