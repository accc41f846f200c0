//! Definitions: functions (and lambdas' functions), classes, their
//! parameters and type parameters, each with its own scope.

use super::*;

impl<'a> Builder<'a> {
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
}
