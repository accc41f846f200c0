//! What the walk asks of a use it meets: a container read or an operand
//! gasguard does not follow, paths reaching a sink, the inventory's call
//! sites, and whether an assignment or a store is followed.

use super::*;

impl<'a> Analyzer<'_, 'a> {
    /// P112 for what a container holds, where `expr` may be a container
    /// used in a way gasguard does not follow (an operator, a method).
    pub(super) fn check_container_use(&mut self, expr: &'a Expr) {
        if is_literal(expr) {
            return;
        }
        // An exception's `.args` are followed where read (`e.args`).
        let values: Values = self
            .eval_counted(expr)
            .into_iter()
            .filter(is_container)
            .collect();
        self.check_contents(expr, &values);
    }

    /// P112 for a module, an API judged by its arguments, or a container
    /// holding one, used as an operand (paths are compared and joined
    /// everywhere, and stay allowed).
    pub(super) fn check_operand(&mut self, expr: &'a Expr) {
        if is_literal(expr) {
            return;
        }
        let values = self.resolve(expr, span(expr));
        self.record_escaping(&values);
        let kept: Values = values
            .iter()
            .filter(|v| !matches!(v, Value::Path))
            .cloned()
            .collect();
        let reported = self.check_escaping_value(expr, &kept, false);
        self.contents_escape(expr, &values, !reported);
    }

    /// Whether the yields of the function being walked are followed.
    pub(super) fn yields_followed(&self) -> bool {
        let func = self.model.scopes[self.scope].func;
        func.is_some_and(|f| self.interp.follows_yields(f))
    }

    /// `check_path` on each library path among `values`, in order (as
    /// `paths`, without copying them).
    pub(super) fn check_paths(&mut self, values: &Values, at: Range<usize>) {
        for v in values {
            match v {
                Value::Lib(p) => self.check_path(p, at.clone()),
                Value::Builtin(b) => self.check_path(&format!("builtins.{b}"), at.clone()),
                _ => {}
            }
        }
    }

    /// Records a call or attribute read for plugins (`CodeInventory::sites`).
    pub(super) fn record_site(
        &mut self,
        kind: &'static str,
        expr: &Expr,
        at: Range<usize>,
        values: &Values,
    ) {
        if self.inventory.sites.len() >= MAX_SITES {
            return;
        }
        self.record_site_named(kind, dotted(expr), at, values);
    }

    /// `record_site`, the expression's dotted name already made.
    pub(super) fn record_site_named(
        &mut self,
        kind: &'static str,
        name: Option<String>,
        at: Range<usize>,
        values: &Values,
    ) {
        if self.inventory.sites.len() >= MAX_SITES {
            return;
        }
        let mut described: Vec<String> = paths(values);
        described.extend(
            values
                .iter()
                .filter(|v| !matches!(v, Value::Lib(_) | Value::Builtin(_)))
                .map(Value::describe),
        );
        described.sort();
        described.dedup();
        self.inventory.sites.push(Site {
            kind,
            name,
            span: [at.start, at.end],
            values: described,
        });
    }

    /// Whether `c` is `x.append(v)` (or another change in place whose
    /// additions `containers.rs` records) on containers gasguard tracks:
    /// its arguments then stay followed.
    pub(super) fn records_addition(&mut self, c: &'a ast::ExprCall) -> bool {
        let Expr::Attribute(a) = c.func.as_ref() else {
            return false;
        };
        let recorded = self.model.mutated.iter().any(|m| {
            std::ptr::eq(m.receiver, &*a.value)
                && matches!(m.added, Added::Value { .. } | Added::Elements(_))
        });
        recorded && self.only_tracked(&a.value)
    }

    /// Whether assigning `value` to `target` is followed: names (unpacked
    /// or pairwise), stores into containers gasguard tracks, and plain
    /// attributes of the file's own objects (see `store_follows`).
    pub(super) fn target_follows(&mut self, target: &'a Expr, value: &'a Expr) -> bool {
        match (target, value) {
            (Expr::Name(_), _) => true,
            (Expr::Subscript(s), _) => self.only_tracked(&s.value),
            (Expr::Attribute(a), _) => {
                let follows = self.store_follows(a);
                if follows {
                    let receivers = self.eval_counted(&a.value);
                    self.check_stored_value(value, receivers);
                }
                follows
            }
            (Expr::Tuple(_) | Expr::List(_), Expr::Tuple(_) | Expr::List(_))
                if pairwise_shapes(target, value) =>
            {
                let (ts, vs) = (elements(target), elements(value));
                let mut all = true;
                for (t, v) in ts.iter().zip(vs) {
                    all &= self.target_follows(t, v);
                }
                all
            }
            (Expr::Tuple(_) | Expr::List(_), _) => binds_names_only(target),
            _ => false,
        }
    }

    /// Whether a store `x.attr = v` is followed: `x` may only be an
    /// instance or a function of model.py, and no class of the file
    /// defines `attr` (a property's setter or a descriptor would take the
    /// value somewhere else). Reads of the attribute then take every value
    /// the file stores under that name.
    pub(super) fn store_follows(&mut self, a: &'a ast::ExprAttribute) -> bool {
        let attr = a.attr.as_str();
        if attr.starts_with("__") {
            return false;
        }
        let receiver = self.eval_counted(&a.value);
        let mut follows = !receiver.is_empty();
        for v in &receiver {
            follows &= match v {
                Value::Instance(c) => self.interp.class_family(*c).iter().all(|k| {
                    let scope = self.model.classes[*k].scope;
                    !self.model.scopes[scope].bindings.contains_key(attr)
                }),
                Value::Function(_) => true,
                _ => false,
            };
        }
        follows
    }

    /// What a followed attribute store may keep: libraries read the file's
    /// objects' attributes only by their own names, so a module is fine
    /// there, but not an API judged by its arguments nor a path outside
    /// the submission (nn.Module hooks call what they find).
    /// Judged once the round knows whether a library can reach the
    /// receivers (`stores.rs`).
    pub(super) fn check_stored_value(&mut self, value: &'a Expr, receivers: Values) {
        let values = self.resolve(value, span(value));
        self.record_escaping(&values);
        self.contents_escape(value, &values, false);
        let kept: Values = self
            .with_partial_contents(values)
            .into_iter()
            .filter(|v| !matches!(v, Value::Lib(p) if is_module_path(p)))
            .collect();
        self.defer_stored_value(value, kept, receivers);
    }

    /// Whether `expr` may only be containers whose changes are recorded.
    pub(super) fn only_tracked(&mut self, expr: &'a Expr) -> bool {
        let values = self.eval_counted(expr);
        !values.is_empty() && values.iter().all(Interpreter::is_tracked)
    }

    /// `__match_args__` names the attributes a positional class pattern
    /// reads: each must be a literal attribute name that may be read.
    pub(super) fn check_match_args(&mut self, value: &Expr) {
        let Some(elts) = crate::python::semantic::sequence_elements(value)
            .filter(|elts| elts.iter().all(|e| matches!(e, Expr::StringLiteral(_))))
        else {
            return self.report(
                Diagnostic::new(&rules::DUNDER_ACCESS, "`__match_args__` is not a tuple of literal attribute names")
                    .help("positional class patterns read the attributes it names; list them as string literals"),
                span(value),
            );
        };
        for e in elts {
            if let Expr::StringLiteral(n) = e {
                self.check_attribute_name(n.value.to_str(), span(e));
            }
        }
    }
}
