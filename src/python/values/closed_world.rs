//! The closed world: model.py's functions are called only by model.py and
//! by the evaluator. Parameters take the values every call site that can
//! run passes (plus defaults); functions used other than by a direct call
//! escape; reachability from the module body, `load_model` and the model's
//! methods.

use super::*;

impl<'m, 'a> Interpreter<'m, 'a> {
    /// The values of parameter `index` of `func`.
    pub fn param(&self, func: FuncId, index: usize, depth: usize) -> Values {
        let key = (func, index);
        if let Some(v) = self.params.borrow().get(&key) {
            return copied(v);
        }
        if !self.active_params.borrow_mut().insert(key) {
            self.cycle.set(true);
            return Values::new();
        }
        let out = normalize(self.param_uncached(func, index, depth));
        self.active_params.borrow_mut().remove(&key);
        if !self.computing_targets.get() && !self.truncated.get() {
            self.params.borrow_mut().insert(key, out.clone());
        }
        out
    }

    pub(super) fn default_of(&self, func: FuncId, index: usize, depth: usize) -> Values {
        let f = &self.model.functions[func];
        match f.params[index].default {
            Some(d) => self.eval_in(d, f.parent, depth + 1),
            None => Values::new(),
        }
    }

    pub(super) fn param_uncached(&self, func: FuncId, index: usize, depth: usize) -> Values {
        let f = &self.model.functions[func];
        let p = &f.params[index];
        if p.kind == ParamKind::VarKeywords && Some(func) == self.load_model() {
            return one(Value::ConfigKwargs);
        }
        if p.kind == ParamKind::VarKeywords
            && !self.escaped.contains(&func)
            && !self.computing_targets.get()
        {
            return self.var_keywords(func, depth);
        }
        if p.kind == ParamKind::VarArgs
            && !self.escaped.contains(&func)
            && !self.computing_targets.get()
            && Some(func) != self.load_model()
        {
            return self.var_args(func, index, depth);
        }
        if matches!(p.kind, ParamKind::VarArgs | ParamKind::VarKeywords) {
            return one(Value::Unknown);
        }
        let is_method = f.class.is_some() && !self.has_decorator(func, "builtins.staticmethod");
        if is_method && index == 0 {
            let class = f.class.unwrap_or_default();
            // `self` (or `cls`) may be of any subclass of the file's that
            // inherits the method.
            let classmethod = self.has_decorator(func, "builtins.classmethod");
            let mut out: Values = self
                .with_subclasses(class)
                .into_iter()
                .map(|k| {
                    if classmethod {
                        Value::Class(k)
                    } else {
                        Value::Instance(k)
                    }
                })
                .collect();
            // Called unbound (by name in the class body, or `C.m(x)`), the
            // first parameter is whatever is passed.
            if !self.computing_targets.get() {
                for (call, shift) in self.call_targets_of(func) {
                    let site = &self.model.calls[call];
                    if shift == 0 {
                        match bind_argument(site.call, &f.params, 0, 0) {
                            Argument::Given(e) => {
                                out.extend(self.eval_in(e, site.scope, depth + 1))
                            }
                            Argument::Unpacked(e) => out.extend(
                                self.unpacked_argument(site.call, e, &p.name, site.scope, depth),
                            ),
                            Argument::Missing => {}
                        }
                    }
                }
            }
            return out;
        }
        if Some(func) == self.load_model() {
            // The evaluator: load_model(str(weights_path), **model_section).
            if index == 0 {
                return one(Value::LocalStr);
            }
            if let Some(v) = self.facts.model_section.get(&p.name) {
                return one(from_json(v));
            }
            if p.name == "num_classes" {
                return one(Value::Int(self.facts.num_classes.unwrap_or(2)));
            }
            return self.default_of(func, index, depth);
        }
        if self.escaped.contains(&func) || self.computing_targets.get() {
            let mut out = self.default_of(func, index, depth);
            out.push(Value::Unknown);
            return out;
        }
        let targets = self.call_targets_of(func);
        // Python's calls of it as a decorator (`protocols.rs`).
        let decorating = self.decorator_arguments(func, depth);
        if targets.is_empty() && decorating.is_empty() {
            // Never called where gasguard can see: it does not run.
            let mut out = self.default_of(func, index, depth);
            out.push(Value::Unknown);
            return out;
        }
        let mut out = Values::new();
        let mut uses_default = false;
        for given in decorating {
            if index == 0 {
                out.extend(given);
            } else {
                uses_default = true;
            }
        }
        for (call, shift) in targets {
            let site = &self.model.calls[call];
            match bind_argument(site.call, &f.params, index, shift) {
                Argument::Given(e) => out.extend(self.eval_in(e, site.scope, depth + 1)),
                Argument::Unpacked(e) => {
                    out.extend(self.unpacked_argument(site.call, e, &p.name, site.scope, depth));
                    uses_default = true;
                }
                Argument::Missing => uses_default = true,
            }
        }
        if uses_default {
            out.extend(self.default_of(func, index, depth));
        }
        out
    }

    /// What a function's `*args` receives from the calls gasguard sees: a
    /// tuple of the positional arguments past the named ones (the
    /// elements of `*x` unpacked into it).
    pub(super) fn var_args(&self, func: FuncId, index: usize, depth: usize) -> Values {
        let targets = self.call_targets_of(func);
        if targets.is_empty() {
            return one(Value::Unknown);
        }
        let mut held = Values::new();
        for (call, shift) in targets {
            let site = &self.model.calls[call];
            for (i, a) in site.call.arguments.args.iter().enumerate() {
                match a {
                    Expr::Starred(s) => {
                        for v in self.eval_in(&s.value, site.scope, depth + 1) {
                            held.extend(self.iterate(&v, depth + 1));
                        }
                    }
                    e if shift + i >= index => held.extend(self.eval_in(e, site.scope, depth + 1)),
                    _ => {}
                }
            }
        }
        one(Value::Items(Box::new(normalize(held))))
    }

    /// What a function's `**kwargs` receives from the calls gasguard sees:
    /// an empty mapping, or the one mapping passed on with `**`; keywords
    /// no named parameter takes, or several mappings, give a mapping that
    /// may hold any of their values under any key; a mapping gasguard
    /// cannot follow is unknown.
    pub(super) fn var_keywords(&self, func: FuncId, depth: usize) -> Values {
        let f = &self.model.functions[func];
        let targets = self.call_targets_of(func);
        if targets.is_empty() {
            return one(Value::Unknown);
        }
        // Positional-only names and `*args`' name are not keywords: a
        // keyword spelt like them lands in `**kwargs`.
        let named: Vec<&str> = f
            .params
            .iter()
            .filter(|p| {
                matches!(
                    p.kind,
                    ParamKind::PositionalOrKeyword | ParamKind::KeywordOnly
                )
            })
            .map(|p| p.name.as_str())
            .collect();
        let mut out = Values::new();
        for (call, _) in targets {
            let site = &self.model.calls[call];
            let kws = &site.call.arguments.keywords;
            let extra: Vec<&Expr> = kws
                .iter()
                .filter(|k| k.arg.as_ref().is_some_and(|a| !named.contains(&a.as_str())))
                .map(|k| &k.value)
                .collect();
            let spread: Vec<&Expr> = kws
                .iter()
                .filter(|k| k.arg.is_none())
                .map(|k| &k.value)
                .collect();
            match (extra.as_slice(), spread.as_slice()) {
                ([], []) => out.push(Value::Dict(u32::MAX, MODULE_SCOPE)),
                ([], [e]) => {
                    for v in self.eval_in(e, site.scope, depth + 1) {
                        out.push(match v {
                            Value::Dict(..) | Value::ConfigKwargs => v,
                            _ => Value::Unknown,
                        });
                    }
                }
                _ => {
                    let mut held = Values::new();
                    let mut followed = true;
                    for e in &extra {
                        held.extend(self.eval_in(e, site.scope, depth + 1));
                    }
                    for e in &spread {
                        for v in self.eval_in(e, site.scope, depth + 1) {
                            match v {
                                Value::Dict(..) | Value::ConfigKwargs => {
                                    held.extend(self.contents(&v, depth + 1))
                                }
                                _ => followed = false,
                            }
                        }
                    }
                    out.push(if followed {
                        Value::Items(Box::new(normalize(held)))
                    } else {
                        Value::Unknown
                    });
                }
            }
        }
        out
    }

    /// What `f(*xs)` (any element of `xs`) or `f(**mapping)` (its key
    /// `name`) may pass to parameter `name`.
    fn unpacked_argument(
        &self,
        call: &'a ast::ExprCall,
        e: &'a Expr,
        name: &str,
        scope: ScopeId,
        depth: usize,
    ) -> Values {
        let mapping = call
            .arguments
            .keywords
            .iter()
            .any(|k| k.arg.is_none() && std::ptr::eq(&k.value, e));
        if mapping {
            return self.unpacked(e, name, scope, depth);
        }
        let mut out = Values::new();
        for v in self.eval_in(e, scope, depth + 1) {
            out.extend(self.iterate(&v, depth + 1));
        }
        out
    }

    /// What a `*args`/`**mapping` unpacking may pass as `name` (nothing
    /// when the mapping is known not to hold it).
    pub fn unpacked(&self, e: &'a Expr, name: &str, scope: ScopeId, depth: usize) -> Values {
        let mut out = Values::new();
        for v in self.eval_in(e, scope, depth + 1) {
            match self.entry(&v, name) {
                Entry::Found(vals) | Entry::Maybe(vals) => out.extend(vals),
                Entry::Absent => {}
                Entry::Unknown => out.push(Value::Unknown),
            }
        }
        out
    }

    pub(super) fn has_decorator(&self, func: FuncId, path: &str) -> bool {
        let f = &self.model.functions[func];
        f.decorators.iter().any(|d| {
            let d = match d {
                Expr::Call(c) => &c.func,
                other => *other,
            };
            self.eval_in(d, f.parent, 0).iter().any(|v| match v {
                Value::Lib(p) => &**p == path,
                Value::Builtin(b) => format!("builtins.{b}") == path,
                _ => false,
            })
        })
    }

    /// Call sites that may call `func`, with the argument shift of a bound
    /// `self` or of a class call reaching `__init__`.
    pub(super) fn call_targets_of(&self, func: FuncId) -> Vec<(usize, usize)> {
        if self.call_targets.borrow().is_none() {
            self.computing_targets.set(true);
            let mut map: HashMap<FuncId, Vec<(usize, usize)>> = HashMap::new();
            for (i, site) in self.model.calls.iter().enumerate() {
                if let Some(live) = &self.live_scopes
                    && !live.contains(&site.scope)
                {
                    continue;
                }
                if !self.guards_may_hold(&site.guards) {
                    continue;
                }
                self.begin_prepass();
                let receiver_is_instance = match site.call.func.as_ref() {
                    Expr::Attribute(a) => self
                        .eval_in(&a.value, site.scope, 1)
                        .iter()
                        .any(|v| matches!(v, Value::Instance(_))),
                    _ => false,
                };
                for callee in self.eval_in(&site.call.func, site.scope, 0) {
                    match callee {
                        Value::Function(f) => {
                            let bound = receiver_is_instance
                                && self.model.functions[f].class.is_some()
                                && !self.has_decorator(f, "builtins.staticmethod");
                            map.entry(f).or_default().push((i, usize::from(bound)));
                        }
                        Value::Class(c) => {
                            self.class_calls.borrow_mut().entry(c).or_default().push(i);
                            if let Some(init) = self.init_of(c) {
                                map.entry(init).or_default().push((i, 1));
                            }
                        }
                        _ => {}
                    }
                }
            }
            self.computing_targets.set(false);
            self.params.borrow_mut().clear();
            self.names.borrow_mut().clear();
            self.forget_name_values();
            self.attributes.borrow_mut().clear();
            *self.call_targets.borrow_mut() = Some(map);
        }
        self.call_targets
            .borrow()
            .as_ref()
            .and_then(|m| m.get(&func).cloned())
            .unwrap_or_default()
    }

    /// Whether the closed world counts `call` among the calls of `func`
    /// (call targets are worked out with parameters unknown, so a call
    /// through a parameter is not among them).
    pub fn sees_call(&self, func: FuncId, call: &ast::ExprCall) -> bool {
        self.call_targets_of(func)
            .iter()
            .any(|(i, _)| std::ptr::eq(self.model.calls[*i].call, call))
    }

    /// `class` and every class of the file below it.
    pub(super) fn with_subclasses(&self, class: ClassId) -> Vec<ClassId> {
        let family = self.class_family(class);
        let bases = self.class_bases.borrow();
        // Bases not worked out (reached while they are): the whole family.
        let Some(bases) = bases.as_ref() else {
            return family;
        };
        family
            .into_iter()
            .filter(|&k| {
                let mut seen = Vec::new();
                let mut stack = vec![k];
                while let Some(c) = stack.pop() {
                    if c == class {
                        return true;
                    }
                    if !seen.contains(&c) {
                        seen.push(c);
                        stack.extend(bases.get(c).into_iter().flatten().copied());
                    }
                }
                false
            })
            .collect()
    }

    pub fn init_of(&self, class: ClassId) -> Option<FuncId> {
        let c = &self.model.classes[class];
        self.model.scopes[c.scope]
            .bindings
            .get("__init__")?
            .iter()
            .find_map(|b| match b.kind {
                BindingKind::Function(f) => Some(f),
                _ => None,
            })
    }

    /// Starts one evaluation of the whole-file passes (escapes,
    /// reachability) with its own budget, while the passes' total stays
    /// under the file's; past it, evaluations stay truncated (fail closed).
    fn begin_prepass(&self) {
        let total = self.prepass_steps.get() + self.steps.get();
        self.prepass_steps.set(total);
        if total <= PREPASS_BUDGET {
            self.begin();
        }
    }

    /// Functions that may be called other than by a call gasguard sees,
    /// by name: referenced by name anywhere other than as a callee (an
    /// over-approximation, used for the reachability pass), plus
    /// `protocol_escapes`.
    pub(super) fn escaped_functions(&self) -> HashSet<FuncId> {
        let mut passed_on: HashSet<&str> = HashSet::new();
        for r in &self.model.references {
            if !r.called {
                passed_on.insert(r.name.as_str());
            }
        }
        let mut out = self.protocol_escapes();
        for (id, f) in self.model.functions.iter().enumerate() {
            let escaped = f.is_lambda
                || match f.class {
                    Some(class) if f.name == "__init__" => {
                        passed_on.contains(self.model.classes[class].name.as_str())
                    }
                    _ => passed_on.contains(f.name.as_str()),
                };
            if escaped {
                out.insert(id);
            }
        }
        out
    }

    /// Functions Python or a library calls by protocol, whatever values
    /// flow where: decorated by anything but a transparent decorator,
    /// dunders (of classes and of the module), methods a library base may
    /// call by name, and `__init__` of decorated classes. Where the file's
    /// own values flow adds the rest (`analyze/escapes.rs`).
    pub(super) fn protocol_escapes(&self) -> HashSet<FuncId> {
        let mut out = HashSet::new();
        for (id, f) in self.model.functions.iter().enumerate() {
            // Each evaluation has its own budget (see `reachable_scopes`).
            self.begin_prepass();
            let decorated = self.decorated_opaquely(id) && self.file_decorators(id).is_none();
            let escaped = if decorated {
                true
            } else if let Some(class) = f.class {
                let c = &self.model.classes[class];
                if f.name == "__init__" {
                    !c.decorators.is_empty()
                } else {
                    // Dunders and methods a library base may call by name;
                    // `__enter__` and the async protocols' dunders escape
                    // with an instance that escapes (`analyze/escapes.rs`),
                    // else `with`, `async with` and `async for` are their
                    // only calls (`protocols.rs`).
                    (f.name.starts_with("__") && !self.follows_protocol(id)) || {
                        self.begin_prepass();
                        self.has_library_base(class)
                    }
                }
            } else {
                !f.is_lambda && f.name.starts_with("__")
            };
            if escaped {
                out.insert(id);
            }
        }
        self.steps.set(0);
        self.truncated.set(false);
        out
    }

    /// Whether every value is a function or class of model.py whose calls
    /// gasguard follows into named parameters (not escaped, no `*args` or
    /// `**kwargs` to lose an argument in).
    pub fn follows_arguments(&self, callees: &Values) -> bool {
        !callees.is_empty()
            && callees.iter().all(|v| {
                let func = match v {
                    Value::Function(f) => Some(*f),
                    Value::Class(c) => self.init_of(*c),
                    _ => None,
                };
                func.is_some_and(|f| !self.escaped.contains(&f))
            })
    }

    /// Whether `func`'s returns are followed (every call of it is one
    /// gasguard sees).
    pub fn follows_returns(&self, func: FuncId) -> bool {
        !self.escaped.contains(&func)
    }

    /// Whether `func` may be called other than by a call gasguard sees.
    pub fn is_escaped(&self, func: FuncId) -> bool {
        self.escaped.contains(&func)
    }

    /// Whether a function is decorated with anything but a decorator that
    /// calls it as it is called: then a library holds it and may call it.
    pub(super) fn decorated_opaquely(&self, func: FuncId) -> bool {
        let f = &self.model.functions[func];
        f.decorators.iter().any(|d| {
            let d = match d {
                Expr::Call(c) => &c.func,
                other => *other,
            };
            !self.eval_in(d, f.parent, 0).iter().all(|v| match v {
                Value::Lib(p) => TRANSPARENT_DECORATORS.contains(&&**p),
                Value::Builtin(b) => {
                    TRANSPARENT_DECORATORS.contains(&format!("builtins.{b}").as_str())
                }
                _ => false,
            })
        })
    }

    /// Whether a class has a base that is not one of model.py's classes (a
    /// library base may call any of its methods by name).
    pub fn has_library_base(&self, class: ClassId) -> bool {
        let mut seen = Vec::new();
        let mut stack = vec![class];
        while let Some(k) = stack.pop() {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let c = &self.model.classes[k];
            for b in &c.bases {
                for v in self.eval_in(b, c.parent, 0) {
                    match v {
                        Value::Class(base) => stack.push(base),
                        _ => return true,
                    }
                }
            }
        }
        false
    }

    /// Scopes that can run when the evaluator imports model.py, calls
    /// `load_model` and uses the model: the module body; class bodies where
    /// they are defined; lambdas and comprehensions with their parent;
    /// functions referenced by name from live code, or decorated by a
    /// library; and methods of classes used by live code that Python or a
    /// library base calls by name (dunders; any method with a library base).
    pub fn reachable_scopes(&self) -> HashSet<ScopeId> {
        let model = self.model;
        let mut live: HashSet<ScopeId> = HashSet::new();
        // The scopes of each function and class name (`worklist.rs`).
        let mut queue = super::worklist::ScopeStack::new(model);
        queue.push(MODULE_SCOPE);
        if let Some(f) = self.load_model() {
            queue.push(model.functions[f].scope);
        }
        let mut refs_by_scope: HashMap<ScopeId, Vec<usize>> = HashMap::new();
        for (i, r) in model.references.iter().enumerate() {
            refs_by_scope.entry(r.scope).or_default().push(i);
        }
        let mut children: HashMap<ScopeId, Vec<ScopeId>> = HashMap::new();
        for (id, s) in model.scopes.iter().enumerate() {
            if let Some(p) = s.parent {
                children.entry(p).or_default().push(id);
            }
        }
        // By id, not hashed.
        let mut used_classes = vec![false; model.classes.len()];
        let mut is_live = vec![false; model.scopes.len()];
        loop {
            while let Some(s) = queue.pop() {
                if is_live.get(s).copied().unwrap_or(false) || !live.insert(s) {
                    continue;
                }
                if let Some(l) = is_live.get_mut(s) {
                    *l = true;
                }
                queue.mark_live(s);
                for &child in children.get(&s).into_iter().flatten() {
                    let cs = &model.scopes[child];
                    let runs_with_parent = match (cs.kind, cs.func) {
                        (ScopeKind::Comprehension | ScopeKind::Class, _) => true,
                        (_, Some(f)) => {
                            let f = &model.functions[f];
                            // Each evaluation has its own budget: a file's
                            // size must not truncate the later ones.
                            self.begin_prepass();
                            f.is_lambda
                                || (cs.func.is_some_and(|id| self.decorated_opaquely(id)))
                                || (f.class.is_none() && f.name.starts_with("__"))
                        }
                        _ => false,
                    };
                    if runs_with_parent {
                        queue.push(child);
                    }
                }
                for &r in refs_by_scope.get(&s).into_iter().flatten() {
                    let r = &model.references[r];
                    self.begin_prepass();
                    if !self.guards_may_hold(&r.guards) {
                        continue;
                    }
                    // Every scope of that name; their classes are used.
                    for &target in queue.push_name(r.name.as_str()) {
                        if let Some(c) = model.scopes[target].class
                            && let Some(used) = used_classes.get_mut(c)
                        {
                            *used = true;
                        }
                    }
                }
            }
            // Methods that Python or a library base calls by name.
            for (id, c) in model.classes.iter().enumerate() {
                if !live.contains(&c.scope)
                    || !(used_classes.get(id).copied().unwrap_or(false) || !c.decorators.is_empty())
                {
                    continue;
                }
                self.begin_prepass();
                let library_base = self.has_library_base(id);
                for &child in children.get(&c.scope).into_iter().flatten() {
                    let Some(f) = model.scopes[child].func else {
                        continue;
                    };
                    let name = &model.functions[f].name;
                    if !live.contains(&child) && (library_base || name.starts_with("__")) {
                        queue.push(child);
                    }
                }
            }
            if queue.is_empty() {
                break;
            }
        }
        live
    }
}
