//! `functools.partial(f, ...)` where `f` is an API judged by its
//! arguments: the partial is followed as a value (`values/partial.rs`), so
//! `f` is not passed on. Each call of the partial is judged as a call of
//! `f` with the bound arguments first (`sinks.rs`); wherever the partial
//! goes that gasguard does not follow, `f` and the bound values are judged
//! as what it holds (`contents_escape`). The bound arguments themselves
//! stay arguments of a library call (`check_escape`).

use super::*;
use crate::python::values::PARTIAL_ATTRIBUTES;

/// Callees whose calls are judged elsewhere than by the sinks, on the
/// call's syntax (`wrappers.rs`): a partial of them stays an escape.
const JUDGED_BY_SYNTAX: &[&str] = &["functools.update_wrapper", "functools.wraps"];

impl<'a> Analyzer<'_, 'a> {
    /// Whether `call` (`c`) is `functools.partial(f, ...)` followed as a
    /// value.
    pub(super) fn makes_partial(
        &mut self,
        call: &'a Expr,
        c: &'a ast::ExprCall,
        callees: &Values,
    ) -> bool {
        let only_partial = Interpreter::is_partial_call(c)
            && !callees.is_empty()
            && callees
                .iter()
                .all(|v| matches!(v, Value::Lib(p) if &**p == crate::python::values::PARTIAL_PATH));
        if !only_partial {
            return false;
        }
        // Evaluated, the call is registered as the partial it makes.
        self.eval_counted(call);
        self.interp.follows_partial(c)
    }

    /// `check_escape` of a followed partial's callee `f`: a library
    /// object (not a module, not judged on the call's syntax) is not passed
    /// on, since every call of the partial is judged as a call of it; the
    /// file's own functions escape (their calls through the partial are
    /// not among the calls gasguard sees) and anything else is judged as
    /// an escape.
    pub(super) fn check_partial_callee(&mut self, f: &'a Expr) {
        let values = self.resolve(f, span(f));
        self.record_escaping(&values);
        let judged: Values = values
            .iter()
            .filter(|v| match v {
                Value::Lib(p) => is_module_path(p) || JUDGED_BY_SYNTAX.contains(&&**p),
                Value::Builtin(_) | Value::None => false,
                _ => true,
            })
            .cloned()
            .collect();
        let reported = self.check_escaping_value(f, &judged, false);
        self.contents_escape(f, &values, !reported);
    }

    /// Whether `a` reads `.func`, `.args` or `.keywords` of what can only
    /// be partials (followed: no container use).
    pub(super) fn reads_partial_attribute(&mut self, a: &'a ast::ExprAttribute) -> bool {
        if !PARTIAL_ATTRIBUTES.contains(&a.attr.as_str()) {
            return false;
        }
        let receiver = self.eval_counted(&a.value);
        !receiver.is_empty() && receiver.iter().all(|v| matches!(v, Value::Partial(..)))
    }

    /// The values among `values` with what the partials among them hold
    /// (nested partials too): a partial stored where libraries look is
    /// its callee stored there.
    pub(super) fn with_partial_contents(&mut self, values: Values) -> Values {
        let mut out = values;
        let mut seen: Vec<Value> = Vec::new();
        let mut i = 0;
        while i < out.len() {
            if let Value::Partial(..) = &out[i]
                && !seen.contains(&out[i])
                && seen.len() < MAX_CONTAINERS
            {
                seen.push(out[i].clone());
                self.interp.begin();
                let held = self.interp.contents(&out[i], 0);
                self.eval_steps += self.interp.steps.get();
                out.extend(held);
            }
            i += 1;
        }
        out
    }
}
