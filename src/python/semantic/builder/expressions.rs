//! Expressions: references, calls, mutations, walrus targets, lambdas,
//! comprehensions (each its own scope), yields and interpolated strings.

use super::*;

impl<'a> Builder<'a> {
    fn record_yield(&mut self, value: Option<&'a Expr>, from: bool) {
        if let Some(func) = self.func {
            let scope = self.current;
            self.model.functions[func]
                .yields
                .push(super::Yielded { value, scope, from });
        }
    }

    pub(super) fn comprehension(
        &mut self,
        node: &'a Expr,
        generators: &'a [ast::Comprehension],
        elts: &[&'a Expr],
    ) {
        let Some(first) = generators.first() else {
            return;
        };
        // The first iterable is evaluated in the enclosing scope.
        self.expr(&first.iter);
        let scope = self.open_scope(ScopeKind::Comprehension, Some(self.current), None, None);
        self.model
            .scope_of
            .insert((u32::from(node.range().start()), NODE_COMPREHENSION), scope);
        let func = self.func;
        let outer = self.current;
        self.within(scope, func, |b| {
            for (i, g) in generators.iter().enumerate() {
                if i > 0 {
                    b.expr(&g.iter);
                }
                // The first iterable is the enclosing scope's.
                let iter_scope = if i == 0 { outer } else { b.current };
                let step = if g.is_async {
                    Step::AsyncIterate
                } else {
                    Step::Iterate
                };
                b.bind_selected(&g.target, &g.iter, iter_scope, vec![step]);
                for cond in &g.ifs {
                    b.expr(cond);
                }
            }
            for e in elts {
                b.expr(e);
            }
        });
    }

    pub(super) fn expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) => {
                if n.ctx == ast::ExprContext::Load {
                    self.reference(n.id.as_str(), false);
                }
            }
            Expr::Attribute(a) => {
                if a.ctx == ast::ExprContext::Load {
                    self.reference(a.attr.as_str(), false);
                }
                self.expr(&a.value);
            }
            Expr::Call(c) => {
                match c.func.as_ref() {
                    Expr::Name(n) => self.reference(n.id.as_str(), true),
                    Expr::Attribute(a) => {
                        self.reference(a.attr.as_str(), true);
                        self.expr(&a.value);
                    }
                    other => self.expr(other),
                }
                if let Expr::Attribute(a) = c.func.as_ref()
                    && let Some(added) = mutation_of(a.attr.as_str(), c)
                {
                    self.model.mutated.push(Mutation {
                        receiver: &a.value,
                        scope: self.current,
                        added,
                    });
                }
                self.model.calls.push(CallSite {
                    call: c,
                    scope: self.current,
                    guards: self.guards.clone(),
                });
                for a in &c.arguments.args {
                    self.expr(a);
                }
                for k in &c.arguments.keywords {
                    self.expr(&k.value);
                }
            }
            Expr::Named(n) => {
                self.expr(&n.value);
                // PEP 572: inside a comprehension the target binds in the
                // nearest enclosing scope that is not a comprehension.
                let mut target = self.current;
                while self.model.scopes[target].kind == ScopeKind::Comprehension {
                    match self.model.scopes[target].parent {
                        Some(p) => target = p,
                        None => break,
                    }
                }
                if let Expr::Name(name) = n.target.as_ref() {
                    let binding = Binding {
                        kind: BindingKind::Value {
                            value: &n.value,
                            scope: self.current,
                        },
                        guards: if target == self.current {
                            self.guards.clone()
                        } else {
                            Vec::new()
                        },
                        at: name.range(),
                    };
                    self.pending.push((target, name.id.to_string(), binding));
                }
            }
            Expr::Lambda(l) => {
                let params = match &l.parameters {
                    Some(p) => self.parameters(p),
                    None => Vec::new(),
                };
                let (func, scope) = self.new_function(
                    "<lambda>".into(),
                    params,
                    Vec::new(),
                    false,
                    true,
                    l.range(),
                    NODE_LAMBDA,
                );
                self.model.functions[func].returns.push((&l.body, scope));
                self.within(scope, Some(func), |b| b.expr(&l.body));
            }
            Expr::ListComp(c) => self.comprehension(expr, &c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.comprehension(expr, &c.generators, &[&c.elt]),
            Expr::Generator(c) => self.comprehension(expr, &c.generators, &[&c.elt]),
            Expr::DictComp(c) => {
                let elts: Vec<&Expr> = c.key.as_deref().into_iter().chain([&*c.value]).collect();
                self.comprehension(expr, &c.generators, &elts);
            }
            Expr::BoolOp(b) => b.values.iter().for_each(|v| self.expr(v)),
            Expr::BinOp(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::UnaryOp(u) => self.expr(&u.operand),
            Expr::If(i) => {
                self.expr(&i.test);
                self.expr(&i.body);
                self.expr(&i.orelse);
            }
            Expr::Dict(d) => {
                for item in &d.items {
                    if let Some(k) = &item.key {
                        self.expr(k);
                    }
                    self.expr(&item.value);
                }
            }
            Expr::Set(s) => s.elts.iter().for_each(|e| self.expr(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.expr(e)),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.expr(e)),
            Expr::Await(a) => self.expr(&a.value),
            Expr::Yield(y) => {
                if let Some(v) = &y.value {
                    self.expr(v);
                }
                self.record_yield(y.value.as_deref(), false);
            }
            Expr::YieldFrom(y) => {
                self.expr(&y.value);
                self.record_yield(Some(&y.value), true);
            }
            Expr::Compare(c) => {
                self.expr(&c.left);
                c.comparators.iter().for_each(|e| self.expr(e));
            }
            Expr::FString(f) => {
                for e in f.value.elements() {
                    self.interpolated(e);
                }
            }
            Expr::TString(t) => {
                for e in t.value.elements() {
                    self.interpolated(e);
                }
            }
            Expr::Subscript(s) => {
                // Stores are recorded where the assignment binds them.
                if s.ctx != ast::ExprContext::Load {
                    self.model.mutated.push(Mutation {
                        receiver: &s.value,
                        scope: self.current,
                        added: if s.ctx == ast::ExprContext::Del {
                            Added::Nothing
                        } else {
                            Added::Unknown
                        },
                    });
                }
                self.expr(&s.value);
                self.expr(&s.slice);
            }
            Expr::Starred(s) => self.expr(&s.value),
            Expr::Slice(s) => {
                for e in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    self.expr(e);
                }
            }
            Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_)
            | Expr::IpyEscapeCommand(_) => {}
        }
    }

    pub(super) fn interpolated(&mut self, e: &'a ast::InterpolatedStringElement) {
        match e {
            ast::InterpolatedStringElement::Literal(_) => {}
            ast::InterpolatedStringElement::Interpolation(i) => {
                self.expr(&i.expression);
                if let Some(spec) = &i.format_spec {
                    for e in &spec.elements {
                        self.interpolated(e);
                    }
                }
            }
        }
    }
}
