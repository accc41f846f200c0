//! Where model.py's own functions and classes flow. A function escapes
//! (its parameters become unknown, its returns escape positions) when a
//! value that may be it, or a class or container holding it, reaches a
//! position gasguard does not follow: the positions `check_escape` judges,
//! stores libraries may read, operators, decorators, `raise`, a class
//! body's attributes, what `load_model` gives the evaluator, or an
//! attribute read on an object gasguard cannot see into (a method of that
//! name may be what it reaches). `analyze` re-runs the checks until no new
//! escape appears.

use crate::python::semantic::{BindingKind, ClassId, FuncId};

use super::*;

/// Rounds of the escape fixed point before the file is rejected (P111).
pub(super) const MAX_ESCAPE_ROUNDS: usize = 8;

/// Evaluation steps the escape prediction may take in one file (a tenth
/// of the walk's own budget).
const PREDICTION_BUDGET: usize = 100_000;

/// Builtins that reach an object's attributes by a name gasguard may not
/// see (`getattr(obj, name)`).
const ATTRIBUTE_BUILTINS: &[&str] = &["getattr", "setattr", "delattr", "vars", "dir"];

/// The file's methods by name and by class, made once per file: the
/// escape records look them up for every attribute read and every
/// instance passed on (a walk over every function each time was quadratic
/// on large files).
#[derive(Default)]
pub(super) struct MethodIndex<'m> {
    by_name: HashMap<&'m str, Vec<FuncId>>,
    by_class: HashMap<ClassId, Vec<FuncId>>,
}

impl<'m> MethodIndex<'m> {
    pub(super) fn new(model: &'m crate::python::semantic::SemanticModel<'_>) -> Self {
        let mut index = MethodIndex::default();
        for (id, f) in model.functions.iter().enumerate() {
            if let Some(class) = f.class {
                index.by_name.entry(f.name.as_str()).or_default().push(id);
                index.by_class.entry(class).or_default().push(id);
            }
        }
        index
    }

    fn named(&self, name: &str) -> &[FuncId] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    fn of_class(&self, class: ClassId) -> &[FuncId] {
        self.by_class.get(&class).map_or(&[], Vec::as_slice)
    }

    /// The methods of every class in `class`'s family: what escapes with
    /// the class (it may be called, and any method called unbound).
    fn of_family(&self, interp: &Interpreter<'_, '_>, class: ClassId) -> Vec<FuncId> {
        (interp.class_family(class).into_iter())
            .flat_map(|k| self.of_class(k).iter().copied())
            .collect()
    }
}

impl<'a> Analyzer<'_, 'a> {
    /// Records the file's functions and classes among `values` as escaping.
    pub(super) fn record_escaping(&mut self, values: &Values) {
        for v in values {
            match v {
                Value::Function(f) => {
                    self.escaping.insert(*f);
                    // A bound method carries its instance (`__self__`).
                    if let Some(k) = self.model.functions[*f].class {
                        self.instances_reach_library(k);
                    }
                }
                Value::Class(c) => self.escape_class(*c),
                // Code gasguard cannot see may enter it or iterate it
                // asynchronously (`with`, `async with`, `async for`), or
                // call what is stored on it (`stores.rs`).
                Value::Instance(c) => {
                    self.instances_reach_library(*c);
                    let mut dunders = crate::python::values::FOLLOWED_DUNDERS
                        .iter()
                        .flat_map(|d| self.methods.named(d))
                        .copied()
                        .peekable();
                    if dunders.peek().is_none() {
                        continue;
                    }
                    let dunders: Vec<FuncId> = dunders.collect();
                    let family = self.interp.class_family(*c);
                    for id in dunders {
                        if self.model.functions[id]
                            .class
                            .is_some_and(|k| family.contains(&k))
                        {
                            self.escaping.insert(id);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A class that escapes may be called and have any method called
    /// (unbound, with any arguments): every method of its family escapes.
    fn escape_class(&mut self, class: ClassId) {
        self.instances_reach_library(class);
        let methods = self.methods.of_family(&self.interp, class);
        self.escaping.extend(methods);
    }

    /// Records what `expr` may be, and what the containers among it hold,
    /// as escaping.
    pub(super) fn record_escaping_expr(&mut self, expr: &'a Expr) {
        if is_literal(expr) {
            return;
        }
        let values = self.eval_counted(expr);
        self.record_escaping(&values);
        self.contents_escape(expr, &values, false);
    }

    /// `getattr(obj, name)` and its kin reach any attribute of an instance:
    /// its class's methods escape.
    pub(super) fn record_attribute_builtin(&mut self, c: &'a ast::ExprCall, callees: &Values) {
        let reaches = callees
            .iter()
            .any(|v| matches!(v, Value::Builtin(b) if ATTRIBUTE_BUILTINS.contains(b)));
        if !reaches {
            return;
        }
        for arg in &c.arguments.args {
            for v in self.eval_counted(arg) {
                if let Value::Instance(k) | Value::Class(k) = v {
                    self.escape_class(k);
                }
            }
        }
    }

    /// `e.attr` where `e` may be an exception of the file's whose `.args`
    /// are followed (`protocols.rs`): any attribute but `.args` that its
    /// builtin base provides is not followed (`with_traceback()` returns
    /// the exception, `__context__` another), so what `.args` holds is
    /// judged as escaping.
    pub(super) fn check_exception_attribute(&mut self, a: &'a ast::ExprAttribute) {
        let attr = a.attr.as_str();
        if attr == "args" {
            return;
        }
        let receiver = self.eval_counted(&a.value);
        let exceptions: Values = receiver
            .into_iter()
            .filter(|v| match v {
                Value::Instance(k) => {
                    self.interp.exception_args_of(v).is_some()
                        && !self.interp.class_family(*k).iter().any(|c| {
                            self.model.scopes[self.model.classes[*c].scope]
                                .bindings
                                .contains_key(attr)
                        })
                }
                _ => false,
            })
            .collect();
        if !exceptions.is_empty() {
            self.check_contents(&a.value, &exceptions);
        }
    }

    /// A call of the file's function that its parameters do not count
    /// (made through a parameter, or a value gasguard only resolves once
    /// parameters are known): the function escapes, so its parameters
    /// take any value and the call's arguments are judged.
    pub(super) fn record_unseen_call(&mut self, c: &'a ast::ExprCall, callees: &Values) {
        if self.dead > 0 || !self.live.contains(&self.scope) {
            return;
        }
        for v in callees {
            let funcs = match v {
                Value::Function(f) => vec![*f],
                // An `__init__` a class inherits from a class of the file
                // is not among its calls either.
                Value::Class(k) => match self.interp.init_of(*k) {
                    Some(f) => vec![f],
                    None => self
                        .interp
                        .class_family(*k)
                        .into_iter()
                        .filter_map(|b| self.interp.init_of(b))
                        .collect(),
                },
                _ => Vec::new(),
            };
            for f in funcs {
                if !self.interp.sees_call(f, c) {
                    self.escaping.insert(f);
                }
            }
        }
    }

    /// `x.attr` where `x` may be an object gasguard cannot see into (a
    /// library's, or unknown): it may be one of the file's instances that
    /// got there, so every method named `attr` escapes.
    pub(super) fn record_opaque_attribute(&mut self, a: &'a ast::ExprAttribute) {
        let attr = a.attr.as_str();
        if self.methods.named(attr).is_empty() {
            return;
        }
        // `super().attr` reaches classes after the method's own in an
        // instance's MRO: of its family, never itself. (Looked up class by
        // class: every class's `super().__init__` going through every
        // `__init__` of the file was quadratic.)
        match self.super_call(&a.value) {
            Some(Some(class)) => {
                for k in self.interp.class_family(class) {
                    if k == class {
                        continue;
                    }
                    for &id in self.methods.of_class(k) {
                        if self.model.functions[id].name == attr {
                            self.escaping.insert(id);
                        }
                    }
                }
                return;
            }
            Some(None) => {}
            None => {
                let receiver = self.eval_counted(&a.value);
                let opaque = receiver
                    .iter()
                    .any(|v| matches!(v, Value::Unknown | Value::Lib(_) | Value::Builtin(_)));
                if !opaque {
                    return;
                }
            }
        }
        // Every method so named (the index holds methods only).
        self.escaping
            .extend(self.methods.named(attr).iter().copied());
    }

    /// For `super()` (the builtin): the class the look-up starts after,
    /// when there is one (`Some(None)` when not). Called without arguments,
    /// the class of the method it is in; as `super(C, obj)` with `C` one
    /// class of the file, `C` (`obj` is an instance of `C` or of a class
    /// below it, else Python raises: the look-up stays in `C`'s family).
    pub(super) fn super_call(&mut self, expr: &'a Expr) -> Option<Option<ClassId>> {
        let Expr::Call(c) = expr else { return None };
        if !c.arguments.keywords.is_empty() {
            return None;
        }
        let explicit = match &c.arguments.args[..] {
            [] => None,
            [class, obj]
                if !matches!(class, Expr::Starred(_)) && !matches!(obj, Expr::Starred(_)) =>
            {
                Some(class)
            }
            _ => return None,
        };
        let callee = self.eval_counted(&c.func);
        if !(callee.len() == 1 && matches!(&callee[0], Value::Builtin(b) if *b == "super")) {
            return None;
        }
        if let Some(class) = explicit {
            return match self.eval_counted(class)[..] {
                [Value::Class(k)] => Some(Some(k)),
                _ => None,
            };
        }
        let mut scope = Some(self.scope);
        while let Some(s) = scope {
            if let Some(f) = self.model.scopes[s].func
                && let Some(class) = self.model.functions[f].class
            {
                return Some(Some(class));
            }
            scope = self.model.scopes[s].parent;
        }
        Some(None)
    }

    /// Flows that are not expressions the walk meets: class attributes
    /// (a method call through an instance passes `self` first, and a
    /// library base may call them by name) and what the evaluator finds
    /// under `load_model` other than the function it calls.
    pub(super) fn record_protocol_flows(&mut self) {
        let model = self.model;
        for c in &model.classes {
            for (name, bindings) in &model.scopes[c.scope].bindings {
                if bindings
                    .iter()
                    .all(|b| matches!(b.kind, BindingKind::Function(_)))
                {
                    continue;
                }
                self.interp.begin();
                let values = self.interp.name(c.scope, name, 0);
                self.eval_steps += self.interp.steps.get();
                self.record_escaping(&values);
            }
        }
        self.interp.begin();
        let entry = self.interp.load_model();
        let values: Values = self
            .interp
            .name(MODULE_SCOPE, "load_model", 0)
            .into_iter()
            .filter(|v| !matches!(v, Value::Function(f) if Some(*f) == entry))
            .collect();
        self.eval_steps += self.interp.steps.get();
        self.record_escaping(&values);
    }

    /// Functions found escaping that the interpreter did not yet take as
    /// escaped.
    pub(super) fn new_escapes(&self) -> Vec<FuncId> {
        self.escaping
            .iter()
            .copied()
            .filter(|f| !self.interp.is_escaped(*f))
            .collect()
    }
}

/// Escapes the first round would find that a larger escape set cannot
/// undo, to start the fixed point from (`analyze`): the file's functions
/// and classes handed, by name or as a lambda, straight to a library
/// callable (`field(default_factory=lambda: ...)`, `partial(Block, dim)`,
/// `self.apply(self._init_weights)`), whose escape does not depend on
/// which other functions escape. Without them, a file with such a call
/// runs every check twice. A prediction only saves time: the last round
/// must record each one again, or the fixed point starts over from none.
pub(super) fn predicted_escapes<'a>(
    model: &SemanticModel<'a>,
    interp: &Interpreter<'_, 'a>,
    methods: &MethodIndex<'_>,
) -> HashSet<FuncId> {
    let file_names: HashSet<&str> = (model.functions.iter().map(|f| f.name.as_str()))
        .chain(model.classes.iter().map(|c| c.name.as_str()))
        .collect();
    // Calls on a container gasguard tracks are followed into it.
    let mutated: HashSet<*const Expr> = model
        .mutated
        .iter()
        .map(|m| m.receiver as *const Expr)
        .collect();
    // What may be one of the file's functions or classes, by its shape.
    let handed = |e: &Expr| match e {
        Expr::Lambda(_) => true,
        Expr::Name(n) => file_names.contains(n.id.as_str()),
        Expr::Attribute(a) => {
            !methods.named(a.attr.as_str()).is_empty() || file_names.contains(a.attr.as_str())
        }
        _ => false,
    };
    // Work is bounded: past the budget, what is predicted so far is kept.
    let spent = std::cell::Cell::new(0usize);
    let eval = |e: &'a Expr, scope| {
        if spent.get() > PREDICTION_BUDGET {
            return None;
        }
        interp.begin();
        let values = interp.eval(e, scope);
        spent.set(spent.get() + interp.steps.get());
        Some(values)
    };
    let mut out = HashSet::new();
    let mut escape = |values: Values| {
        for v in values {
            match v {
                Value::Function(f) => {
                    out.insert(f);
                }
                Value::Class(k) => out.extend(methods.of_family(interp, k)),
                _ => {}
            }
        }
    };
    // A class body's attributes other than its methods escape with the
    // class (`record_protocol_flows`): `config_class = DetectorConfig`.
    for class in &model.classes {
        for bindings in model.scopes[class.scope].bindings.values() {
            for b in bindings {
                if let BindingKind::Value { value, scope } = &b.kind
                    && handed(value)
                {
                    escape(eval(value, *scope).unwrap_or_default());
                }
            }
        }
    }
    for site in &model.calls {
        let c = site.call;
        let args = (c.arguments.args.iter())
            .filter(|a| !matches!(a, Expr::Starred(_)))
            .chain(c.arguments.keywords.iter().map(|k| &k.value))
            .filter(|a| handed(a));
        let mut args = args.peekable();
        if args.peek().is_none() {
            continue;
        }
        if let Expr::Attribute(f) = c.func.as_ref()
            && mutated.contains(&(&*f.value as *const Expr))
        {
            continue;
        }
        let Some(callees) = eval(&c.func, site.scope) else {
            break;
        };
        // `sorted(xs, key=f)`: a container builtin followed only when
        // called with plain positional arguments (as the walk does).
        let plain = crate::python::semantic::plain_arguments(c);
        if callees.is_empty() || !callees.iter().all(|v| library_callable(v, plain)) {
            continue;
        }
        for arg in args {
            escape(eval(arg, site.scope).unwrap_or_default());
        }
    }
    out
}

/// A callee whose arguments the walk always takes as passed on: a library
/// object, or a builtin other than those that only look at their
/// arguments and those followed into their results (container builtins,
/// when called with `plain` positional arguments).
fn library_callable(v: &Value, plain: bool) -> bool {
    match v {
        Value::Lib(_) => true,
        Value::Builtin(b) => {
            !INTROSPECTION_BUILTINS.contains(b)
                && !(plain && crate::python::values::CONTAINER_BUILTINS.contains(b))
                && *b != "super"
        }
        _ => false,
    }
}
