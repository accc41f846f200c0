//! Functions of model.py that `functools` makes the wrapper of another
//! object at run time: `update_wrapper(f, g)` and `wraps(g)(f)` set
//! `f.__wrapped__ = g` and share `g.__annotations__` with `f`, and
//! `typing.get_type_hints(f)` evaluates them in the globals of `g`, where
//! names mean something else than in model.py. A store into such a
//! function's `__annotations__` is not judged as model.py code
//! (`annotations.rs` fails it closed).

use ruff_python_ast::{self as ast, Expr};

use super::Analyzer;
use crate::python::semantic::{FuncId, ScopeId};
use crate::python::values::Value;

/// Which of the file's functions may wrap an object that is not model.py's.
#[derive(Clone, Debug)]
pub(super) enum ForeignWrappers {
    These(foldhash::HashSet<FuncId>),
    /// A wrapping call gasguard cannot list: any function may be one.
    Any,
}

impl<'a> Analyzer<'_, 'a> {
    /// Whether `receiver` may be a function wrapping an object that is not
    /// model.py's (worked out once, over every call site in the file).
    pub(super) fn may_wrap_foreign(&mut self, receiver: &'a Expr) -> bool {
        if self.foreign_wrappers.is_none() {
            let found = self.find_foreign_wrappers();
            self.foreign_wrappers = Some(found);
        }
        match &self.foreign_wrappers {
            Some(ForeignWrappers::These(set)) if set.is_empty() => return false,
            Some(ForeignWrappers::These(_)) => {}
            _ => return true,
        }
        self.interp.begin();
        let values = self.interp.eval(receiver, self.scope);
        let Some(ForeignWrappers::These(set)) = &self.foreign_wrappers else {
            return true;
        };
        values
            .iter()
            .any(|v| matches!(v, Value::Function(f) if set.contains(f)))
    }

    fn is_functools(&mut self, func: &'a Expr, scope: ScopeId, name: &str) -> bool {
        self.interp.begin();
        let callee = self.interp.eval(func, scope);
        callee
            .iter()
            .any(|v| matches!(v, Value::Lib(p) if p.strip_prefix("functools.") == Some(name)))
    }

    fn is_decorator(&self, c: &ast::ExprCall) -> bool {
        let is_it = |d: &&Expr| matches!(d, Expr::Call(dc) if std::ptr::eq(dc, c));
        self.model
            .functions
            .iter()
            .any(|f| f.decorators.iter().any(is_it))
            || self
                .model
                .classes
                .iter()
                .any(|k| k.decorators.iter().any(is_it))
    }

    /// Every call site, in its own scope; the arguments are bound as the
    /// sinks bind them (`arg_values`: keywords, `*`/`**` unpacking).
    fn find_foreign_wrappers(&mut self) -> ForeignWrappers {
        let mut found = foldhash::HashSet::default();
        let mut any = false;
        let mut applied: Vec<*const ast::ExprCall> = Vec::new();
        let mut wraps_calls: Vec<&'a ast::ExprCall> = Vec::new();
        let sites: Vec<(&'a ast::ExprCall, ScopeId)> =
            self.model.calls.iter().map(|s| (s.call, s.scope)).collect();
        let saved = self.scope;
        for (c, scope) in sites {
            self.scope = scope;
            let (wrapper, wrapped) = if self.is_functools(&c.func, scope, "update_wrapper") {
                (
                    self.arg_values(c, "functools.update_wrapper", "wrapper", Some(0)),
                    self.arg_values(c, "functools.update_wrapper", "wrapped", Some(1)),
                )
            } else if let Expr::Call(inner) = c.func.as_ref()
                && self.is_functools(&inner.func, scope, "wraps")
            {
                // `wraps(g)` is `partial(update_wrapper, wrapped=g)`.
                applied.push(inner as *const _);
                (
                    self.arg_values(c, "", "wrapper", Some(0)),
                    self.arg_values(inner, "functools.wraps", "wrapped", Some(0)),
                )
            } else {
                if self.is_functools(&c.func, scope, "wraps") {
                    wraps_calls.push(c);
                }
                continue;
            };
            // Either missing: a TypeError at run time.
            let (Some((wrapper, _)), Some((wrapped, _))) = (wrapper, wrapped) else {
                continue;
            };
            if wrapped
                .iter()
                .all(|v| matches!(v, Value::Function(_) | Value::Class(_)))
            {
                continue;
            }
            for v in wrapper {
                match v {
                    Value::Function(f) => {
                        found.insert(f);
                    }
                    _ => any = true,
                }
            }
            if any {
                break;
            }
        }
        self.scope = saved;
        // `functools.wraps(g)` kept to be applied later (`w = wraps(g)`;
        // `w(f)`): its wrapper cannot be listed. As a decorator it marks a
        // decorated function, judged as such.
        any |= wraps_calls
            .iter()
            .any(|c| !applied.contains(&(*c as *const _)) && !self.is_decorator(c));
        if any {
            ForeignWrappers::Any
        } else {
            ForeignWrappers::These(found)
        }
    }
}
