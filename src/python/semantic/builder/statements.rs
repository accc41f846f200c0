//! Statements: every kind, in order, with `global`/`nonlocal` collected
//! before a scope's body binds anything.

use super::targets::Subject;
use super::*;

impl<'a> Builder<'a> {
    /// `global`/`nonlocal` declarations apply to the whole scope, wherever
    /// they appear: collect them before binding.
    pub(super) fn declarations(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            declarations_in(stmt, &mut self.model.scopes[self.current]);
        }
    }

    pub(in crate::python::semantic) fn body(&mut self, body: &'a [Stmt]) {
        self.declarations(body);
        self.stmts(body);
    }

    pub(super) fn stmts(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    pub(super) fn stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.function_def(f),
            Stmt::ClassDef(c) => self.class_def(c),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.expr(v);
                    if let Some(func) = self.func {
                        self.model.functions[func].returns.push((v, self.current));
                    }
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let Expr::Name(n) = t {
                        // `del x` makes x local to the scope, bound to nothing.
                        let s = &mut self.model.scopes[self.current];
                        if !s.globals.contains(n.id.as_str())
                            && !s.nonlocals.contains(n.id.as_str())
                        {
                            s.locals.insert(n.id.to_string());
                        }
                    } else {
                        self.expr(t);
                    }
                }
            }
            Stmt::TypeAlias(t) => {
                self.type_params(t.type_params.as_deref());
                self.expr(&t.value);
                self.bind_target(&t.name, None, "a type alias");
            }
            Stmt::Assign(a) => {
                self.expr(&a.value);
                for t in &a.targets {
                    self.bind_target(t, Some(&a.value), "an unpacked value");
                }
            }
            Stmt::AugAssign(a) => {
                self.expr(&a.value);
                match a.target.as_ref() {
                    Expr::Name(n) if matches!(a.op, ast::Operator::Add | ast::Operator::BitOr) => {
                        self.reference(n.id.as_str(), false);
                        // A list or dict is extended in place.
                        self.model.mutated.push(Mutation {
                            receiver: &a.target,
                            scope: self.current,
                            added: Added::Elements(&a.value),
                        });
                        self.bind(n.id.as_str(), BindingKind::Augmented, n.range());
                    }
                    Expr::Name(n) => {
                        self.reference(n.id.as_str(), false);
                        self.bind_target(&a.target, None, "an augmented assignment");
                    }
                    _ => self.bind_target(&a.target, None, "an augmented assignment"),
                }
            }
            Stmt::AnnAssign(a) => {
                self.expr(&a.annotation);
                if let Some(v) = &a.value {
                    self.expr(v);
                    self.bind_target(&a.target, Some(v), "an unpacked value");
                } else if let Expr::Name(n) = a.target.as_ref() {
                    let s = &mut self.model.scopes[self.current];
                    if s.kind != ScopeKind::Module && !s.globals.contains(n.id.as_str()) {
                        s.locals.insert(n.id.to_string());
                    }
                } else {
                    self.expr(&a.target);
                }
            }
            Stmt::For(f) => {
                self.expr(&f.iter);
                let scope = self.current;
                let step = if f.is_async {
                    Step::AsyncIterate
                } else {
                    Step::Iterate
                };
                self.bind_selected(&f.target, &f.iter, scope, vec![step]);
                self.stmts(&f.body);
                self.stmts(&f.orelse);
            }
            Stmt::While(w) => {
                self.expr(&w.test);
                self.guarded(&w.test, true, |b| b.stmts(&w.body));
                self.stmts(&w.orelse);
            }
            Stmt::If(i) => {
                self.expr(&i.test);
                self.guarded(&i.test, true, |b| b.stmts(&i.body));
                // Each later clause runs only when every earlier test failed.
                let mut pushed = 1;
                self.guards.push(Guard {
                    test: &i.test,
                    scope: self.current,
                    holds: false,
                });
                for clause in &i.elif_else_clauses {
                    match &clause.test {
                        Some(t) => {
                            self.expr(t);
                            self.guarded(t, true, |b| b.stmts(&clause.body));
                            self.guards.push(Guard {
                                test: t,
                                scope: self.current,
                                holds: false,
                            });
                            pushed += 1;
                        }
                        None => self.stmts(&clause.body),
                    }
                }
                for _ in 0..pushed {
                    self.guards.pop();
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    self.expr(&item.context_expr);
                    if let Some(v) = &item.optional_vars {
                        let step = if w.is_async {
                            Step::AsyncEnter
                        } else {
                            Step::Enter
                        };
                        let scope = self.current;
                        self.bind_selected(v, &item.context_expr, scope, vec![step]);
                    }
                }
                self.stmts(&w.body);
            }
            Stmt::Match(m) => {
                self.expr(&m.subject);
                let subject = Subject {
                    value: &m.subject,
                    scope: self.current,
                    path: Vec::new(),
                };
                for case in &m.cases {
                    self.pattern(&case.pattern, Some(subject.clone()));
                    if let Some(g) = &case.guard {
                        self.expr(g);
                    }
                    self.stmts(&case.body);
                }
            }
            Stmt::Raise(r) => {
                // `raise C` calls `C()` without arguments.
                for e in r.exc.iter().chain(&r.cause) {
                    self.protocol_refs = matches!(e.as_ref(), Expr::Name(_));
                    self.expr(e);
                    self.protocol_refs = false;
                }
            }
            Stmt::Try(t) => {
                self.stmts(&t.body);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        // `except C` or `except (C, D)` only compares classes.
                        self.protocol_refs = match ty.as_ref() {
                            Expr::Name(_) => true,
                            Expr::Tuple(t) => t.elts.iter().all(|e| matches!(e, Expr::Name(_))),
                            _ => false,
                        };
                        self.expr(ty);
                        self.protocol_refs = false;
                    }
                    if let Some(n) = &h.name {
                        let kind = BindingKind::Caught {
                            type_: h.type_.as_deref(),
                            scope: self.current,
                            group: t.is_star,
                        };
                        self.bind(n.as_str(), kind, n.range());
                    }
                    self.stmts(&h.body);
                }
                self.stmts(&t.orelse);
                self.stmts(&t.finalbody);
            }
            Stmt::Assert(a) => {
                self.expr(&a.test);
                if let Some(m) = &a.msg {
                    self.expr(m);
                }
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(a) => self.bind(
                            a.as_str(),
                            BindingKind::Import(full.to_string()),
                            alias.range(),
                        ),
                        None => {
                            let root = full.split('.').next().unwrap_or(full);
                            self.bind(root, BindingKind::Import(root.to_string()), alias.range());
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map_or("", |m| m.as_str());
                for alias in &i.names {
                    if alias.name.as_str() == "*" {
                        continue; // reported (P102); binds names nobody can list
                    }
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    let kind = if i.level == 0 {
                        BindingKind::ImportFrom(format!("{module}.{}", alias.name.as_str()))
                    } else {
                        BindingKind::Unknown("a relative import")
                    };
                    self.bind(bound, kind, alias.range());
                }
            }
            // Collected up front (`declarations`).
            Stmt::Global(_) | Stmt::Nonlocal(_) => {}
            Stmt::Expr(e) => self.expr(&e.value),
            Stmt::Pass(_) | Stmt::Break(_) | Stmt::Continue(_) | Stmt::IpyEscapeCommand(_) => {}
        }
    }
}

/// `global`/`nonlocal` names declared in `stmt`, not entering nested scopes.
fn declarations_in(stmt: &Stmt, scope: &mut Scope) {
    match stmt {
        Stmt::Global(g) => scope.globals.extend(g.names.iter().map(|n| n.to_string())),
        Stmt::Nonlocal(n) => scope
            .nonlocals
            .extend(n.names.iter().map(|n| n.to_string())),
        Stmt::For(s) => s
            .body
            .iter()
            .chain(&s.orelse)
            .for_each(|s| declarations_in(s, scope)),
        Stmt::While(s) => s
            .body
            .iter()
            .chain(&s.orelse)
            .for_each(|s| declarations_in(s, scope)),
        Stmt::If(s) => s
            .body
            .iter()
            .chain(s.elif_else_clauses.iter().flat_map(|c| c.body.iter()))
            .for_each(|s| declarations_in(s, scope)),
        Stmt::With(s) => s.body.iter().for_each(|s| declarations_in(s, scope)),
        Stmt::Match(m) => m
            .cases
            .iter()
            .flat_map(|c| c.body.iter())
            .for_each(|s| declarations_in(s, scope)),
        Stmt::Try(t) => t
            .body
            .iter()
            .chain(t.orelse.iter())
            .chain(t.finalbody.iter())
            .chain(t.handlers.iter().flat_map(|h| {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                h.body.iter()
            }))
            .for_each(|s| declarations_in(s, scope)),
        Stmt::FunctionDef(_)
        | Stmt::ClassDef(_)
        | Stmt::Return(_)
        | Stmt::Delete(_)
        | Stmt::TypeAlias(_)
        | Stmt::Assign(_)
        | Stmt::AugAssign(_)
        | Stmt::AnnAssign(_)
        | Stmt::Raise(_)
        | Stmt::Assert(_)
        | Stmt::Import(_)
        | Stmt::ImportFrom(_)
        | Stmt::Expr(_)
        | Stmt::Pass(_)
        | Stmt::Break(_)
        | Stmt::Continue(_)
        | Stmt::IpyEscapeCommand(_) => {}
    }
}
