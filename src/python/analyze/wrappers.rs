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

/// Argument `index`, or keyword `name`, of a call without unpacking
/// (`Err`: a `*`/`**` argument may be it).
fn argument<'a>(c: &'a ast::ExprCall, index: usize, name: &str) -> Result<Option<&'a Expr>, ()> {
    if c.arguments
        .args
        .iter()
        .any(|a| matches!(a, Expr::Starred(_)))
        || c.arguments.keywords.iter().any(|k| k.arg.is_none())
    {
        return Err(());
    }
    if let Some(k) = c
        .arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
    {
        return Ok(Some(&k.value));
    }
    Ok(c.arguments.args.get(index))
}

impl<'a> Analyzer<'_, 'a> {
    /// Whether `receiver` may be a function wrapping an object that is not
    /// model.py's (worked out once, over every call site in the file).
    pub(super) fn may_wrap_foreign(&mut self, receiver: &'a Expr) -> bool {
        if self.foreign_wrappers.is_none() {
            let found = self.find_foreign_wrappers();
            self.foreign_wrappers = Some(found);
        }
        let Some(ForeignWrappers::These(set)) = self.foreign_wrappers.clone() else {
            return true;
        };
        if set.is_empty() {
            return false;
        }
        self.interp.begin();
        let values = self.interp.eval(receiver, self.scope);
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

    fn find_foreign_wrappers(&mut self) -> ForeignWrappers {
        let mut found = foldhash::HashSet::default();
        let mut consumed: Vec<*const ast::ExprCall> = Vec::new();
        let mut wraps_calls: Vec<&'a ast::ExprCall> = Vec::new();
        let sites: Vec<(&'a ast::ExprCall, ScopeId)> =
            self.model.calls.iter().map(|s| (s.call, s.scope)).collect();
        for (c, scope) in sites {
            let pair = if self.is_functools(&c.func, scope, "update_wrapper") {
                (argument(c, 0, "wrapper"), argument(c, 1, "wrapped"))
            } else if let Expr::Call(inner) = c.func.as_ref()
                && self.is_functools(&inner.func, scope, "wraps")
            {
                consumed.push(inner as *const _);
                (argument(c, 0, "wrapper"), argument(inner, 0, "wrapped"))
            } else {
                if self.is_functools(&c.func, scope, "wraps") {
                    wraps_calls.push(c);
                }
                continue;
            };
            let (Ok(wrapper), Ok(wrapped)) = pair else {
                return ForeignWrappers::Any;
            };
            let (Some(wrapper), Some(wrapped)) = (wrapper, wrapped) else {
                continue; // a TypeError at run time
            };
            self.interp.begin();
            let own = self
                .interp
                .eval(wrapped, scope)
                .iter()
                .all(|v| matches!(v, Value::Function(_) | Value::Class(_)));
            if own {
                continue;
            }
            self.interp.begin();
            for v in self.interp.eval(wrapper, scope) {
                match v {
                    Value::Function(f) => {
                        found.insert(f);
                    }
                    _ => return ForeignWrappers::Any,
                }
            }
        }
        // `functools.wraps(g)` kept to be applied later (`w = wraps(g)`;
        // `w(f)`): its wrapper cannot be listed. As a decorator it marks a
        // decorated function, judged as such.
        for c in wraps_calls {
            if !consumed.contains(&(c as *const _)) && !self.is_decorator(c) {
                return ForeignWrappers::Any;
            }
        }
        ForeignWrappers::These(found)
    }
}
