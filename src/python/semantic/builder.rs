//! The walk that builds the scope model: every statement, expression and
//! pattern kind of ruff's AST, matched without a wildcard arm. This file
//! holds the builder's state and what every part of the walk asks of it
//! (scopes, bindings, guards, references, `global`/`nonlocal` routing);
//! the walk itself is in `statements.rs`, `definitions.rs` (functions,
//! classes, parameters), `targets.rs` (assignment targets and match
//! patterns) and `expressions.rs`.

use super::*;

mod definitions;
mod expressions;
mod statements;
mod targets;

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

    pub(super) fn guarded(&mut self, test: &'a Expr, holds: bool, f: impl FnOnce(&mut Self)) {
        self.guards.push(Guard {
            test,
            scope: self.current,
            holds,
        });
        f(self);
        self.guards.pop();
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
}
