//! The walk that builds the scope model: every statement, expression and
//! pattern kind of ruff's AST, matched without a wildcard arm.

use super::*;

pub(super) struct Builder<'a> {
    pub(super) model: SemanticModel<'a>,
    /// (scope, name, binding) before `global`/`nonlocal` routing.
    pub(super) pending: Vec<(ScopeId, String, Binding<'a>)>,
    pub(super) current: ScopeId,
    pub(super) func: Option<FuncId>,
    /// Branch conditions around the current statement, in the current scope.
    pub(super) guards: Vec<Guard<'a>>,
    /// References are protocol uses (`Reference::protocol`).
    pub(super) protocol_refs: bool,
}

impl<'a> Builder<'a> {
    pub(super) fn open_scope(
        &mut self,
        kind: ScopeKind,
        parent: Option<ScopeId>,
        func: Option<FuncId>,
        class: Option<ClassId>,
    ) -> ScopeId {
        self.model.scopes.push(Scope {
            kind,
            parent,
            bindings: HashMap::new(),
            globals: HashSet::new(),
            nonlocals: HashSet::new(),
            locals: HashSet::new(),
            func,
            class,
        });
        self.model.scopes.len() - 1
    }

    /// Runs `f` inside `scope`, with no guards (a new scope's code runs
    /// whenever it is entered; its callers carry the conditions).
    pub(super) fn within(
        &mut self,
        scope: ScopeId,
        func: Option<FuncId>,
        f: impl FnOnce(&mut Self),
    ) {
        let saved = (self.current, self.func, std::mem::take(&mut self.guards));
        self.current = scope;
        self.func = func;
        f(self);
        self.current = saved.0;
        self.func = saved.1;
        self.guards = saved.2;
    }

    pub(super) fn bind(
        &mut self,
        name: &str,
        kind: BindingKind<'a>,
        at: ruff_text_size::TextRange,
    ) {
        self.bind_in(self.current, name, kind, at);
    }

    pub(super) fn bind_in(
        &mut self,
        scope: ScopeId,
        name: &str,
        kind: BindingKind<'a>,
        at: ruff_text_size::TextRange,
    ) {
        let guards = if scope == self.current {
            self.guards.clone()
        } else {
            Vec::new()
        };
        self.pending
            .push((scope, name.to_string(), Binding { kind, guards, at }));
    }

    pub(super) fn finish(mut self) -> SemanticModel<'a> {
        // Locals: names bound syntactically in a scope, less its declarations.
        for (scope, name, _) in &self.pending {
            let s = &mut self.model.scopes[*scope];
            // Checked first: a name bound many times is copied once.
            if !s.globals.contains(name) && !s.nonlocals.contains(name) && !s.locals.contains(name)
            {
                s.locals.insert(name.clone());
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for (scope, name, binding) in pending {
            let target = self.route(scope, &name);
            // A `global` binding makes the name a module global.
            let locals = &mut self.model.scopes[target].locals;
            if !locals.contains(&name) {
                locals.insert(name.clone());
            }
            self.model.scopes[target]
                .bindings
                .entry(name)
                .or_default()
                .push(binding);
        }
        self.model
    }

    /// The scope a binding of `name` made in `scope` really lands in.
    pub(super) fn route(&self, scope: ScopeId, name: &str) -> ScopeId {
        let s = &self.model.scopes[scope];
        if s.globals.contains(name) {
            return MODULE_SCOPE;
        }
        if !s.nonlocals.contains(name) {
            return scope;
        }
        let mut p = s.parent;
        while let Some(id) = p {
            let ps = &self.model.scopes[id];
            match ps.kind {
                ScopeKind::Class => {}
                ScopeKind::Module => return MODULE_SCOPE,
                _ => {
                    if ps.locals.contains(name) {
                        return id;
                    }
                    if ps.globals.contains(name) {
                        return MODULE_SCOPE;
                    }
                }
            }
            p = ps.parent;
        }
        MODULE_SCOPE
    }

    /// `global`/`nonlocal` declarations apply to the whole scope, wherever
    /// they appear: collect them before binding.
    pub(super) fn declarations(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            declarations_in(stmt, &mut self.model.scopes[self.current]);
        }
    }

    pub(super) fn body(&mut self, body: &'a [Stmt]) {
        self.declarations(body);
        self.stmts(body);
    }

    pub(super) fn stmts(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    pub(super) fn guarded(&mut self, test: &'a Expr, holds: bool, f: impl FnOnce(&mut Self)) {
        self.guards.push(Guard {
            test,
            scope: self.current,
            holds,
        });
        f(self);
        self.guards.pop();
    }

    fn record_yield(&mut self, value: Option<&'a Expr>, from: bool) {
        if let Some(func) = self.func {
            let scope = self.current;
            self.model.functions[func]
                .yields
                .push(super::Yielded { value, scope, from });
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

    pub(super) fn type_params(&mut self, params: Option<&'a ast::TypeParams>) {
        let Some(params) = params else { return };
        for p in &params.type_params {
            let (name, bound, default) = match p {
                ast::TypeParam::TypeVar(t) => (&t.name, t.bound.as_deref(), t.default.as_deref()),
                ast::TypeParam::ParamSpec(t) => (&t.name, None, t.default.as_deref()),
                ast::TypeParam::TypeVarTuple(t) => (&t.name, None, t.default.as_deref()),
            };
            for e in bound.into_iter().chain(default) {
                self.expr(e);
            }
            self.bind(
                name.as_str(),
                BindingKind::Unknown("a type parameter"),
                name.range(),
            );
        }
    }

    pub(super) fn parameters(&mut self, p: &'a ast::Parameters) -> Vec<Param<'a>> {
        let mut out = Vec::new();
        let mut push = |param: &'a ast::Parameter, kind, default: Option<&'a Expr>| {
            out.push(Param {
                name: param.name.to_string(),
                kind,
                default,
            });
        };
        for a in &p.posonlyargs {
            push(&a.parameter, ParamKind::Positional, a.default.as_deref());
        }
        for a in &p.args {
            push(
                &a.parameter,
                ParamKind::PositionalOrKeyword,
                a.default.as_deref(),
            );
        }
        if let Some(v) = &p.vararg {
            push(v, ParamKind::VarArgs, None);
        }
        for a in &p.kwonlyargs {
            push(&a.parameter, ParamKind::KeywordOnly, a.default.as_deref());
        }
        if let Some(k) = &p.kwarg {
            push(k, ParamKind::VarKeywords, None);
        }
        // Defaults and annotations are evaluated where the function is defined.
        for a in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            if let Some(d) = &a.default {
                self.expr(d);
            }
            if let Some(ann) = &a.parameter.annotation {
                self.expr(ann);
            }
        }
        for v in p.vararg.iter().chain(&p.kwarg) {
            if let Some(ann) = &v.annotation {
                self.expr(ann);
            }
        }
        out
    }

    pub(super) fn new_function(
        &mut self,
        name: String,
        params: Vec<Param<'a>>,
        decorators: Vec<&'a Expr>,
        is_async: bool,
        is_lambda: bool,
        range: ruff_text_size::TextRange,
        node: u8,
    ) -> (FuncId, ScopeId) {
        let func = self.model.functions.len();
        let class = self.model.scopes[self.current].class;
        let scope = self.open_scope(ScopeKind::Function, Some(self.current), Some(func), None);
        self.model.functions.push(Function {
            name,
            parent: self.current,
            scope,
            params,
            returns: Vec::new(),
            yields: Vec::new(),
            class,
            decorators,
            is_async,
            is_lambda,
            range,
        });
        self.model
            .scope_of
            .insert((u32::from(range.start()), node), scope);
        for (index, p) in self.model.functions[func].params.iter().enumerate() {
            let name = p.name.clone();
            self.pending.push((
                scope,
                name,
                Binding {
                    kind: BindingKind::Param { func, index },
                    guards: Vec::new(),
                    at: range,
                },
            ));
        }
        (func, scope)
    }

    pub(super) fn function_def(&mut self, f: &'a ast::StmtFunctionDef) {
        let decorators: Vec<&Expr> = f.decorator_list.iter().map(|d| &d.expression).collect();
        for d in &decorators {
            self.expr(d);
        }
        let params = self.parameters(&f.parameters);
        if let Some(r) = &f.returns {
            self.expr(r);
        }
        let (func, scope) = self.new_function(
            f.name.to_string(),
            params,
            decorators,
            f.is_async,
            false,
            f.range(),
            NODE_FUNCTION,
        );
        self.within(scope, Some(func), |b| {
            b.type_params(f.type_params.as_deref());
            b.body(&f.body);
        });
        self.bind(f.name.as_str(), BindingKind::Function(func), f.name.range());
    }

    pub(super) fn class_def(&mut self, c: &'a ast::StmtClassDef) {
        let decorators: Vec<&Expr> = c.decorator_list.iter().map(|d| &d.expression).collect();
        for d in &decorators {
            self.expr(d);
        }
        let mut bases = Vec::new();
        if let Some(args) = &c.arguments {
            for a in &args.args {
                self.protocol_refs = matches!(a, Expr::Name(_));
                self.expr(a);
                self.protocol_refs = false;
                bases.push(a);
            }
            for k in &args.keywords {
                self.expr(&k.value);
            }
        }
        let class = self.model.classes.len();
        let scope = self.open_scope(ScopeKind::Class, Some(self.current), None, Some(class));
        self.model.classes.push(Class {
            name: c.name.to_string(),
            parent: self.current,
            scope,
            bases,
            decorators,
            keywords: c.arguments.as_ref().is_some_and(|a| !a.keywords.is_empty()),
        });
        self.model
            .scope_of
            .insert((u32::from(c.range().start()), NODE_CLASS), scope);
        self.within(scope, None, |b| {
            b.type_params(c.type_params.as_deref());
            b.body(&c.body);
        });
        self.bind(c.name.as_str(), BindingKind::Class(class), c.name.range());
    }

    /// Binds an assignment target. `value` is the assigned expression when
    /// the whole target receives it.
    pub(super) fn bind_target(
        &mut self,
        target: &'a Expr,
        value: Option<&'a Expr>,
        unknown: &'static str,
    ) {
        match target {
            Expr::Name(n) => {
                let kind = match value {
                    Some(v) => BindingKind::Value {
                        value: v,
                        scope: self.current,
                    },
                    None => BindingKind::Unknown(unknown),
                };
                self.bind(n.id.as_str(), kind, n.range());
            }
            Expr::Tuple(_) | Expr::List(_) => {
                let Some(elts) = super::sequence_elements(target) else {
                    return;
                };
                // `a, b = x, y` pairs up; anything else is unknown per element.
                let pairs = value.and_then(super::sequence_elements);
                match pairs {
                    Some(vs)
                        if vs.len() == elts.len()
                            && !elts
                                .iter()
                                .chain(vs.iter())
                                .any(|e| matches!(e, Expr::Starred(_))) =>
                    {
                        for (t, v) in elts.iter().zip(vs.iter()) {
                            self.bind_target(t, Some(v), unknown);
                        }
                    }
                    _ => match value {
                        Some(v) => {
                            let scope = self.current;
                            self.bind_selected(target, v, scope, Vec::new());
                        }
                        None => {
                            for t in elts {
                                self.bind_target(t, None, "an unpacked value");
                            }
                        }
                    },
                }
            }
            Expr::Starred(s) => self.bind_target(&s.value, None, "an unpacked value"),
            Expr::Subscript(s) => {
                let added = match value {
                    Some(value) => Added::Value {
                        value,
                        key: match s.slice.as_ref() {
                            Expr::StringLiteral(k) => Some(k.value.to_str()),
                            _ => None,
                        },
                    },
                    None => Added::Unknown,
                };
                self.model.mutated.push(Mutation {
                    receiver: &s.value,
                    scope: self.current,
                    added,
                });
                self.expr(&s.value);
                self.expr(&s.slice);
            }
            Expr::Attribute(a) => {
                self.expr(&a.value);
                let binding = Binding {
                    kind: match value {
                        Some(v) => BindingKind::Value {
                            value: v,
                            scope: self.current,
                        },
                        None => BindingKind::Unknown(unknown),
                    },
                    guards: self.guards.clone(),
                    at: a.range(),
                };
                let self_of = match (a.value.as_ref(), self.func) {
                    (Expr::Name(n), Some(f)) => {
                        let f = &self.model.functions[f];
                        f.class
                            .filter(|_| f.params.first().is_some_and(|p| p.name == n.id.as_str()))
                    }
                    _ => None,
                };
                self.model
                    .attribute_stores
                    .entry(a.attr.to_string())
                    .or_default()
                    .push(AttributeStore { binding, self_of });
            }
            other => self.expr(other),
        }
    }

    /// Binds the names in `target` to the parts of `value` (evaluated in
    /// `scope`) that `path` and each name's position lead to.
    pub(super) fn bind_selected(
        &mut self,
        target: &'a Expr,
        value: &'a Expr,
        scope: ScopeId,
        path: Vec<Step>,
    ) {
        match target {
            Expr::Name(n) => {
                let kind = BindingKind::Select { value, scope, path };
                self.bind(n.id.as_str(), kind, n.range());
            }
            Expr::Tuple(_) | Expr::List(_) => {
                let Some(elts) = super::sequence_elements(target) else {
                    return;
                };
                let star = elts.iter().position(|e| matches!(e, Expr::Starred(_)));
                for (at, t) in elts.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Step::Index {
                        at,
                        len: elts.len(),
                        star,
                    });
                    let t = match t {
                        Expr::Starred(s) => &*s.value,
                        other => other,
                    };
                    self.bind_selected(t, value, scope, p);
                }
            }
            other => self.bind_target(other, None, "an unpacked value"),
        }
    }

    pub(super) fn reference(&mut self, name: &str, called: bool) {
        self.model.references.push(Reference {
            name: name.to_string(),
            scope: self.current,
            guards: self.guards.clone(),
            called,
            protocol: self.protocol_refs,
        });
    }

    /// Binds a pattern's captures to the parts of the subject they match
    /// (`at`: where this pattern sits; `None` once that is not followed).
    pub(super) fn pattern(&mut self, p: &'a Pattern, at: Option<Subject<'a>>) {
        let capture = |at: &Option<Subject<'a>>| match at {
            Some(s) => BindingKind::Select {
                value: s.value,
                scope: s.scope,
                path: s.path.clone(),
            },
            None => BindingKind::Unknown("a match capture"),
        };
        match p {
            Pattern::MatchValue(v) => self.expr(&v.value),
            Pattern::MatchSingleton(_) => {}
            Pattern::MatchSequence(s) => {
                let star = s
                    .patterns
                    .iter()
                    .position(|p| matches!(p, Pattern::MatchStar(_)));
                for (i, sub) in s.patterns.iter().enumerate() {
                    let step = Step::Index {
                        at: i,
                        len: s.patterns.len(),
                        star,
                    };
                    self.pattern(sub, at.as_ref().map(|a| a.then(step)));
                }
            }
            Pattern::MatchMapping(m) => {
                m.keys.iter().for_each(|k| self.expr(k));
                for (k, sub) in m.keys.iter().zip(&m.patterns) {
                    let step = match k {
                        Expr::StringLiteral(s) => at
                            .as_ref()
                            .map(|a| a.then(Step::Key(s.value.to_str().to_string()))),
                        _ => None,
                    };
                    self.pattern(sub, step);
                }
                if let Some(r) = &m.rest {
                    // The rest of the mapping: taken as the whole of it.
                    let kind = capture(&at);
                    self.bind(r.as_str(), kind, r.range());
                }
            }
            Pattern::MatchClass(c) => {
                self.expr(&c.cls);
                // Positional sub-patterns read the attributes `__match_args__` names.
                c.arguments
                    .patterns
                    .iter()
                    .for_each(|p| self.pattern(p, None));
                for k in &c.arguments.keywords {
                    // A keyword pattern reads the attribute.
                    self.reference(k.attr.as_str(), false);
                    let step = Step::Attr(k.attr.to_string());
                    self.pattern(&k.pattern, at.as_ref().map(|a| a.then(step)));
                }
            }
            Pattern::MatchStar(s) => {
                if let Some(n) = &s.name {
                    let kind = capture(&at);
                    self.bind(n.as_str(), kind, n.range());
                }
            }
            Pattern::MatchAs(a) => {
                if let Some(p) = &a.pattern {
                    self.pattern(p, at.clone());
                }
                if let Some(n) = &a.name {
                    let kind = capture(&at);
                    self.bind(n.as_str(), kind, n.range());
                }
            }
            Pattern::MatchOr(o) => o.patterns.iter().for_each(|p| self.pattern(p, at.clone())),
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

/// A `match` subject and the way into it a pattern sits at.
#[derive(Clone)]
pub(super) struct Subject<'a> {
    value: &'a Expr,
    scope: ScopeId,
    path: Vec<Step>,
}

impl<'a> Subject<'a> {
    fn then(&self, step: Step) -> Subject<'a> {
        let mut path = self.path.clone();
        path.push(step);
        Subject {
            value: self.value,
            scope: self.scope,
            path,
        }
    }
}
