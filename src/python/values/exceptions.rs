//! Exceptions of the file by value: what a handler receives (`except T as
//! e`, `except* T as e`), and `.args`, what an exception class of the file
//! keeps of the arguments it was constructed with when Python's builtin
//! exceptions store them (`exception_args`). Where such an exception goes
//! where gasguard does not follow, what `.args` holds is judged by the
//! escape checks (`analyze/escapes.rs`).

use super::*;

/// Attributes of an exception group (`except*`) that are followed
/// (`group_attribute`); no other untracked container has them.
pub const GROUP_ATTRIBUTES: &[&str] = &["exceptions", "args"];

/// Names a class of the file that keeps `.args` as Python's exceptions do
/// must not define anywhere in its family (they would change what is
/// stored or what is read).
const ARGS_OVERRIDES: &[&str] = &[
    "__init__",
    "__new__",
    "args",
    "__getattribute__",
    "__getattr__",
    "__setattr__",
    "__init_subclass__",
    "__class__",
];

/// Whether a builtin is an exception class whose `.args` are the
/// positional arguments it was constructed with. Exception groups are not:
/// what they hold is judged where they are built.
fn is_builtin_exception(name: &str) -> bool {
    let name = name.strip_prefix("builtins.").unwrap_or(name);
    matches!(
        name,
        "BaseException"
            | "StopIteration"
            | "StopAsyncIteration"
            | "KeyboardInterrupt"
            | "SystemExit"
            | "GeneratorExit"
    ) || ["Error", "Exception", "Warning"]
        .iter()
        .any(|s| name.ends_with(s) && name.chars().next().is_some_and(char::is_uppercase))
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// What `except T as name` binds: an instance of one of the file's
    /// classes below `T`, when `T` is only the file's classes (nothing
    /// else is an instance of them); else any raisable instance of the
    /// file's classes, or what a library raised (unknown). For `except*`
    /// (`group`), an exception group holding those.
    pub(super) fn caught(
        &self,
        type_: Option<&'a Expr>,
        scope: ScopeId,
        group: bool,
        depth: usize,
    ) -> Values {
        let mut classes = Vec::new();
        let narrowed = type_.is_some_and(|t| {
            let mut types = Values::new();
            for v in self.eval_in(t, scope, depth + 1) {
                match v {
                    Value::Seq(..) => types.extend(self.iterate(&v, depth + 1)),
                    other => types.push(other),
                }
            }
            !types.is_empty()
                && types.iter().all(|v| match v {
                    Value::Class(k) => {
                        classes.extend(self.class_family(*k));
                        true
                    }
                    _ => false,
                })
        });
        let mut out = Values::new();
        if narrowed {
            out.extend(classes.into_iter().map(Value::Instance));
        } else {
            out.push(Value::Unknown);
            for k in 0..self.model.classes.len() {
                if self.has_library_base(k) {
                    out.push(Value::Instance(k));
                }
            }
        }
        let out = normalize(out);
        // The group `except*` builds holds the exceptions raised, flat: a
        // nested group is one the file built, by a library call whose
        // arguments are judged (a class of the file deriving from a group
        // does not keep `.args`: `is_builtin_exception`).
        if group {
            return one(Value::Items(Box::new(out)));
        }
        out
    }

    /// An attribute of an untracked container: for the exception group
    /// `except*` binds, `.exceptions` is the exceptions it holds and
    /// `.args` its message and them. No other untracked container (a
    /// generator, a coroutine, a dict view) has either, so reading them as
    /// a group's is an over-approximation.
    pub(super) fn group_attribute(&self, group: &Value, attr: &str) -> Values {
        match attr {
            "exceptions" => one(group.clone()),
            "args" => one(Value::Items(Box::new(smallvec::smallvec![
                Value::Unknown,
                group.clone()
            ]))),
            _ => one(Value::Unknown),
        }
    }

    /// What `.args` of an instance of `class` may hold, when its family
    /// keeps `.args` as Python's exceptions do (bases only the file's
    /// classes and builtin exceptions, none defining `ARGS_OVERRIDES`, no
    /// decorators, no metaclass): a tuple of the positional arguments of
    /// every construction (keywords and `*` unpacking over-approximated),
    /// plus unknown when a class of the family may be constructed where
    /// gasguard does not see it. `None` when not followed.
    pub(super) fn exception_args(&self, class: ClassId, depth: usize) -> Option<Values> {
        if self.computing_targets.get() || !self.keeps_exception_args(class, depth) {
            return None;
        }
        let family = self.class_family(class);
        let mut held = Values::new();
        if family.iter().any(|&k| self.constructed_unseen(k)) {
            held.push(Value::Unknown);
        }
        self.call_targets_of(FuncId::MAX); // fills `class_calls`
        let sites: Vec<usize> = family
            .iter()
            .flat_map(|k| {
                self.class_calls
                    .borrow()
                    .get(k)
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        for i in sites {
            let site = &self.model.calls[i];
            for a in &site.call.arguments.args {
                match a {
                    Expr::Starred(s) => {
                        for v in self.eval_in(&s.value, site.scope, depth + 1) {
                            held.extend(self.iterate(&v, depth + 1));
                        }
                    }
                    other => held.extend(self.eval_in(other, site.scope, depth + 1)),
                }
            }
            for k in &site.call.arguments.keywords {
                held.extend(self.eval_in(&k.value, site.scope, depth + 1));
            }
        }
        Some(one(Value::Items(Box::new(normalize(held)))))
    }

    /// What `v` holds in `.args` when it is an instance of the file's
    /// that keeps `.args` as Python's exceptions do (`exception_args`).
    pub fn exception_args_of(&self, v: &Value) -> Option<Values> {
        match v {
            Value::Instance(k) if self.keeps_exception_args(*k, 0) => self.exception_args(*k, 0),
            _ => None,
        }
    }

    /// Whether instances of `class` keep `.args` as Python's exceptions
    /// do: every class of its family does (`keeps_args`), and one has a
    /// builtin exception base (else there is no `.args`).
    pub fn keeps_exception_args(&self, class: ClassId, depth: usize) -> bool {
        let family = self.class_family(class);
        family.iter().all(|&k| self.keeps_args(k, depth))
            && family.iter().any(|&k| {
                let c = &self.model.classes[k];
                c.bases.iter().any(|b| {
                    self.eval_in(b, c.parent, depth + 1)
                        .iter()
                        .any(|v| matches!(v, Value::Builtin(_) | Value::Lib(_)))
                })
            })
    }

    /// Whether the arguments of `call`, whose callees are `callees`, are
    /// followed into `.args`: every callee is a class of the file keeping
    /// `.args` (`keeps_exception_args`) and the call is among its
    /// constructions.
    pub fn follows_construction(&self, callees: &Values, call: &ast::ExprCall) -> bool {
        !callees.is_empty()
            && callees.iter().all(|v| match v {
                Value::Class(k) => {
                    self.keeps_exception_args(*k, 0) && self.sees_construction(*k, call)
                }
                _ => false,
            })
    }

    /// Whether `class` itself keeps `.args` as its builtin exception bases
    /// do (see `exception_args`).
    fn keeps_args(&self, class: ClassId, depth: usize) -> bool {
        let c = &self.model.classes[class];
        if !c.decorators.is_empty() || c.keywords {
            return false;
        }
        let body = &self.model.scopes[c.scope].bindings;
        if ARGS_OVERRIDES.iter().any(|n| body.contains_key(*n)) {
            return false;
        }
        c.bases.iter().all(|b| {
            self.eval_in(b, c.parent, depth + 1)
                .iter()
                .all(|v| match v {
                    Value::Class(_) => true,
                    Value::Builtin(n) => is_builtin_exception(n),
                    Value::Lib(p) => p.starts_with("builtins.") && is_builtin_exception(p),
                    _ => false,
                })
        })
    }

    /// Whether `class` may be constructed by a call gasguard does not see:
    /// its name is used other than as a callee or by protocol (`except`,
    /// a base, `raise`).
    fn constructed_unseen(&self, class: ClassId) -> bool {
        let name = self.model.classes[class].name.as_str();
        self.model
            .references
            .iter()
            .any(|r| r.name == name && !r.called && !r.protocol)
    }

    /// Whether the closed world counts `call` among the constructions of
    /// `class` (those `exception_args` reads).
    pub fn sees_construction(&self, class: ClassId, call: &ast::ExprCall) -> bool {
        self.call_targets_of(FuncId::MAX);
        self.class_calls.borrow().get(&class).is_some_and(|sites| {
            sites
                .iter()
                .any(|i| std::ptr::eq(self.model.calls[*i].call, call))
        })
    }
}
