//! The scope model of `model.py`, built as CPython's symtable builds it:
//! which scope each name lives in, every place that binds it, and the
//! branch conditions guarding each binding. Built once, queried by the
//! value interpreter (`values.rs`); rules never walk scopes themselves.
//!
//! The walk matches every statement, expression and pattern kind of ruff's
//! AST without a wildcard arm, so a new node kind fails to compile instead
//! of being skipped.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::{self as ast, Expr, Pattern, Stmt};
use ruff_text_size::Ranged;

pub type ScopeId = usize;
pub type FuncId = usize;
pub type ClassId = usize;

/// The module scope is always the first.
pub const MODULE_SCOPE: ScopeId = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    /// `def` and `lambda`.
    Function,
    /// List, set and dict comprehensions and generator expressions.
    Comprehension,
}

/// A branch condition: the binding or call happens only when `test`'s
/// truth equals `holds`. Evaluated lazily (`values.rs`), so a branch is
/// pruned only when its test is a proven constant.
#[derive(Clone, Copy, Debug)]
pub struct Guard<'a> {
    pub test: &'a Expr,
    pub scope: ScopeId,
    pub holds: bool,
}

#[derive(Clone, Debug)]
pub enum BindingKind<'a> {
    /// `name = value` (plain, annotated, walrus; also assignments routed by
    /// `global`/`nonlocal`). The value is evaluated in `scope`.
    Value {
        value: &'a Expr,
        scope: ScopeId,
    },
    /// An element of a tuple/list literal unpacked pairwise.
    /// `import a.b` binds `a`; `import a.b as c` binds `a.b`.
    Import(String),
    /// `from m import n`: the object `m.n`.
    ImportFrom(String),
    /// Parameter `index` of a function defined in model.py.
    Param {
        func: FuncId,
        index: usize,
    },
    Function(FuncId),
    Class(ClassId),
    /// `__file__`: the path of model.py, inside the submission.
    SubmissionFile,
    /// Bound to something the interpreter does not follow: a loop variable,
    /// a context manager's result, an unpacked element, a `match` capture.
    Unknown(&'static str),
}

#[derive(Clone, Debug)]
pub struct Binding<'a> {
    pub kind: BindingKind<'a>,
    pub guards: Vec<Guard<'a>>,
    /// Where the name is bound (for messages).
    pub at: ruff_text_size::TextRange,
}

#[derive(Debug)]
pub struct Scope<'a> {
    pub kind: ScopeKind,
    pub parent: Option<ScopeId>,
    pub bindings: HashMap<String, Vec<Binding<'a>>>,
    pub globals: HashSet<String>,
    pub nonlocals: HashSet<String>,
    /// Names local to this scope (bound here and not declared
    /// `global`/`nonlocal`), including `del` and annotation-only targets.
    pub locals: HashSet<String>,
    /// The function whose body this is (functions and lambdas).
    pub func: Option<FuncId>,
    /// The class whose body this is.
    pub class: Option<ClassId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Positional,
    PositionalOrKeyword,
    VarArgs,
    KeywordOnly,
    VarKeywords,
}

#[derive(Debug)]
pub struct Param<'a> {
    pub name: String,
    pub kind: ParamKind,
    pub default: Option<&'a Expr>,
}

#[derive(Debug)]
pub struct Function<'a> {
    pub name: String,
    /// The scope the definition is in (defaults and decorators run there).
    pub parent: ScopeId,
    /// The body's scope.
    pub scope: ScopeId,
    pub params: Vec<Param<'a>>,
    /// Return expressions (a lambda's body counts as one).
    pub returns: Vec<(&'a Expr, ScopeId)>,
    /// Defined directly in a class body.
    pub class: Option<ClassId>,
    pub decorators: Vec<&'a Expr>,
    pub is_async: bool,
    pub is_lambda: bool,
    pub range: ruff_text_size::TextRange,
}

#[derive(Debug)]
pub struct Class<'a> {
    pub name: String,
    pub parent: ScopeId,
    pub scope: ScopeId,
    pub bases: Vec<&'a Expr>,
    pub decorators: Vec<&'a Expr>,
}

/// A call in model.py, with where it is and what guards it.
#[derive(Debug)]
pub struct CallSite<'a> {
    pub call: &'a ast::ExprCall,
    pub scope: ScopeId,
    pub guards: Vec<Guard<'a>>,
}

/// A store into an attribute (`x.attr = value`).
#[derive(Debug)]
pub struct AttributeStore<'a> {
    pub binding: Binding<'a>,
    /// The store is `self.attr = ...` in a method of this class (the
    /// receiver is the method's first parameter); `None` for any other
    /// receiver.
    pub self_of: Option<ClassId>,
}

/// A load of a name or attribute name somewhere, for reachability and
/// escape analysis (by name: an over-approximation).
#[derive(Debug)]
pub struct Reference<'a> {
    pub name: String,
    pub scope: ScopeId,
    pub guards: Vec<Guard<'a>>,
    /// The reference is the callee of a call (`f(...)`, `self.f(...)`).
    pub called: bool,
}

#[derive(Debug, Default)]
pub struct SemanticModel<'a> {
    pub scopes: Vec<Scope<'a>>,
    pub functions: Vec<Function<'a>>,
    pub classes: Vec<Class<'a>>,
    pub calls: Vec<CallSite<'a>>,
    /// Expressions whose object may be changed in place: receivers of
    /// mutating methods (`d.update(...)`) and of item stores (`d[k] = v`).
    pub mutated: Vec<(&'a Expr, ScopeId)>,
    pub references: Vec<Reference<'a>>,
    /// Every value stored into an attribute named `attr` anywhere
    /// (`x.attr = value`): what an instance attribute may hold.
    pub attribute_stores: HashMap<String, Vec<AttributeStore<'a>>>,
    /// The scope a `def`, `class`, `lambda` or comprehension opens, by the
    /// node's start offset and kind.
    scope_of: HashMap<(u32, u8), ScopeId>,
}

/// Node kinds that open scopes, for `scope_of`.
pub const NODE_FUNCTION: u8 = 0;
pub const NODE_CLASS: u8 = 1;
pub const NODE_LAMBDA: u8 = 2;
pub const NODE_COMPREHENSION: u8 = 3;

/// Methods that change a dict or list in place.
const MUTATING_METHODS: &[&str] = &[
    "update",
    "setdefault",
    "pop",
    "popitem",
    "clear",
    "__setitem__",
    "__delitem__",
    "append",
    "extend",
    "insert",
    "remove",
];

/// Names the import system binds in every module.
const MODULE_IMPLICIT: &[&str] = &[
    "__name__",
    "__doc__",
    "__package__",
    "__cached__",
    "__annotations__",
];

/// Names CPython's `builtins` module defines (3.11).
pub const BUILTIN_NAMES: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "__build_class__",
    "__debug__",
    "__doc__",
    "__import__",
    "__loader__",
    "__name__",
    "__package__",
    "__spec__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

pub fn is_builtin(name: &str) -> bool {
    BUILTIN_NAMES.contains(&name) || name == "__builtins__"
}

/// Where a loaded name's value comes from.
#[derive(Debug, Default, Clone)]
pub struct Lookup {
    /// Scopes whose bindings of the name may be the value.
    pub scopes: Vec<ScopeId>,
    /// The builtin of that name may be the value (module and class scopes
    /// fall through to builtins while the name is not yet bound).
    pub builtin: bool,
}

impl<'a> SemanticModel<'a> {
    pub fn build(module: &'a ast::ModModule) -> Self {
        let mut b = Builder {
            model: SemanticModel::default(),
            pending: Vec::new(),
            current: MODULE_SCOPE,
            func: None,
            guards: Vec::new(),
        };
        b.open_scope(ScopeKind::Module, None, None, None);
        b.bind("__file__", BindingKind::SubmissionFile, module.range());
        for name in MODULE_IMPLICIT {
            b.bind(
                name,
                BindingKind::Unknown("set by the import system"),
                module.range(),
            );
        }
        b.body(&module.body);
        b.finish()
    }

    pub fn scope_of(&self, start: ruff_text_size::TextSize, node: u8) -> Option<ScopeId> {
        self.scope_of.get(&(u32::from(start), node)).copied()
    }

    /// Where `name`, loaded in `scope`, gets its value (CPython's rules:
    /// local, enclosing function scopes skipping class bodies, module,
    /// builtins).
    pub fn lookup(&self, scope: ScopeId, name: &str) -> Lookup {
        let s = &self.scopes[scope];
        if s.globals.contains(name) {
            return self.global_lookup(name);
        }
        if s.nonlocals.contains(name) {
            return self.free_lookup(scope, name);
        }
        match s.kind {
            ScopeKind::Module => self.global_lookup(name),
            ScopeKind::Class => {
                // A class body reads its own namespace, then what encloses it
                // (the name may not be bound yet when it is read).
                let mut l = self.free_lookup(scope, name);
                if s.locals.contains(name) {
                    l.scopes.insert(0, scope);
                }
                l
            }
            ScopeKind::Function | ScopeKind::Comprehension => {
                if s.locals.contains(name) {
                    Lookup {
                        scopes: vec![scope],
                        builtin: false,
                    }
                } else {
                    self.free_lookup(scope, name)
                }
            }
        }
    }

    fn global_lookup(&self, name: &str) -> Lookup {
        let bound = self.scopes[MODULE_SCOPE].locals.contains(name);
        Lookup {
            scopes: if bound {
                vec![MODULE_SCOPE]
            } else {
                Vec::new()
            },
            builtin: is_builtin(name),
        }
    }

    /// A free variable: the nearest enclosing function scope that binds it,
    /// else the module.
    fn free_lookup(&self, scope: ScopeId, name: &str) -> Lookup {
        let mut p = self.scopes[scope].parent;
        while let Some(id) = p {
            let s = &self.scopes[id];
            match s.kind {
                ScopeKind::Module => return self.global_lookup(name),
                ScopeKind::Class => {}
                ScopeKind::Function | ScopeKind::Comprehension => {
                    if s.globals.contains(name) {
                        return self.global_lookup(name);
                    }
                    if s.locals.contains(name) {
                        return Lookup {
                            scopes: vec![id],
                            builtin: false,
                        };
                    }
                }
            }
            p = s.parent;
        }
        self.global_lookup(name)
    }

    /// The innermost enclosing function of `scope` (itself included).
    pub fn enclosing_function(&self, mut scope: ScopeId) -> Option<FuncId> {
        loop {
            let s = &self.scopes[scope];
            if let Some(f) = s.func {
                return Some(f);
            }
            scope = s.parent?;
        }
    }
}

struct Builder<'a> {
    model: SemanticModel<'a>,
    /// (scope, name, binding) before `global`/`nonlocal` routing.
    pending: Vec<(ScopeId, String, Binding<'a>)>,
    current: ScopeId,
    func: Option<FuncId>,
    /// Branch conditions around the current statement, in the current scope.
    guards: Vec<Guard<'a>>,
}

impl<'a> Builder<'a> {
    fn open_scope(
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
    fn within(&mut self, scope: ScopeId, func: Option<FuncId>, f: impl FnOnce(&mut Self)) {
        let saved = (self.current, self.func, std::mem::take(&mut self.guards));
        self.current = scope;
        self.func = func;
        f(self);
        self.current = saved.0;
        self.func = saved.1;
        self.guards = saved.2;
    }

    fn bind(&mut self, name: &str, kind: BindingKind<'a>, at: ruff_text_size::TextRange) {
        self.bind_in(self.current, name, kind, at);
    }

    fn bind_in(
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

    fn finish(mut self) -> SemanticModel<'a> {
        // Locals: names bound syntactically in a scope, less its declarations.
        for (scope, name, _) in &self.pending {
            let s = &mut self.model.scopes[*scope];
            if !s.globals.contains(name) && !s.nonlocals.contains(name) {
                s.locals.insert(name.clone());
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for (scope, name, binding) in pending {
            let target = self.route(scope, &name);
            // A `global` binding makes the name a module global.
            self.model.scopes[target].locals.insert(name.clone());
            self.model.scopes[target]
                .bindings
                .entry(name)
                .or_default()
                .push(binding);
        }
        self.model
    }

    /// The scope a binding of `name` made in `scope` really lands in.
    fn route(&self, scope: ScopeId, name: &str) -> ScopeId {
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
    fn declarations(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            declarations_in(stmt, &mut self.model.scopes[self.current]);
        }
    }

    fn body(&mut self, body: &'a [Stmt]) {
        self.declarations(body);
        self.stmts(body);
    }

    fn stmts(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn guarded(&mut self, test: &'a Expr, holds: bool, f: impl FnOnce(&mut Self)) {
        self.guards.push(Guard {
            test,
            scope: self.current,
            holds,
        });
        f(self);
        self.guards.pop();
    }

    fn stmt(&mut self, stmt: &'a Stmt) {
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
                if let Expr::Name(n) = a.target.as_ref() {
                    self.reference(n.id.as_str(), false);
                }
                self.bind_target(&a.target, None, "an augmented assignment");
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
                self.bind_target(&f.target, None, "a loop variable");
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
                        self.bind_target(v, None, "a context manager's result");
                    }
                }
                self.stmts(&w.body);
            }
            Stmt::Match(m) => {
                self.expr(&m.subject);
                for case in &m.cases {
                    self.pattern(&case.pattern);
                    if let Some(g) = &case.guard {
                        self.expr(g);
                    }
                    self.stmts(&case.body);
                }
            }
            Stmt::Raise(r) => {
                if let Some(e) = &r.exc {
                    self.expr(e);
                }
                if let Some(c) = &r.cause {
                    self.expr(c);
                }
            }
            Stmt::Try(t) => {
                self.stmts(&t.body);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        self.expr(ty);
                    }
                    if let Some(n) = &h.name {
                        self.bind(
                            n.as_str(),
                            BindingKind::Unknown("a caught exception"),
                            n.range(),
                        );
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

    fn type_params(&mut self, params: Option<&'a ast::TypeParams>) {
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

    fn parameters(&mut self, p: &'a ast::Parameters) -> Vec<Param<'a>> {
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

    fn new_function(
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

    fn function_def(&mut self, f: &'a ast::StmtFunctionDef) {
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

    fn class_def(&mut self, c: &'a ast::StmtClassDef) {
        let decorators: Vec<&Expr> = c.decorator_list.iter().map(|d| &d.expression).collect();
        for d in &decorators {
            self.expr(d);
        }
        let mut bases = Vec::new();
        if let Some(args) = &c.arguments {
            for a in &args.args {
                self.expr(a);
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
    fn bind_target(&mut self, target: &'a Expr, value: Option<&'a Expr>, unknown: &'static str) {
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
                let elts = match target {
                    Expr::Tuple(t) => &t.elts,
                    Expr::List(l) => &l.elts,
                    _ => return,
                };
                // `a, b = x, y` pairs up; anything else is unknown per element.
                let pairs: Option<&[Expr]> = match value {
                    Some(Expr::Tuple(t)) => Some(&t.elts),
                    Some(Expr::List(l)) => Some(&l.elts),
                    _ => None,
                };
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
                    _ => {
                        for t in elts {
                            self.bind_target(t, None, "an unpacked value");
                        }
                    }
                }
            }
            Expr::Starred(s) => self.bind_target(&s.value, None, "an unpacked value"),
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

    fn reference(&mut self, name: &str, called: bool) {
        self.model.references.push(Reference {
            name: name.to_string(),
            scope: self.current,
            guards: self.guards.clone(),
            called,
        });
    }

    fn pattern(&mut self, p: &'a Pattern) {
        match p {
            Pattern::MatchValue(v) => self.expr(&v.value),
            Pattern::MatchSingleton(_) => {}
            Pattern::MatchSequence(s) => s.patterns.iter().for_each(|p| self.pattern(p)),
            Pattern::MatchMapping(m) => {
                m.keys.iter().for_each(|k| self.expr(k));
                m.patterns.iter().for_each(|p| self.pattern(p));
                if let Some(r) = &m.rest {
                    self.bind(
                        r.as_str(),
                        BindingKind::Unknown("a match capture"),
                        r.range(),
                    );
                }
            }
            Pattern::MatchClass(c) => {
                self.expr(&c.cls);
                c.arguments.patterns.iter().for_each(|p| self.pattern(p));
                for k in &c.arguments.keywords {
                    // A keyword pattern reads the attribute.
                    self.reference(k.attr.as_str(), false);
                    self.pattern(&k.pattern);
                }
            }
            Pattern::MatchStar(s) => {
                if let Some(n) = &s.name {
                    self.bind(
                        n.as_str(),
                        BindingKind::Unknown("a match capture"),
                        n.range(),
                    );
                }
            }
            Pattern::MatchAs(a) => {
                if let Some(p) = &a.pattern {
                    self.pattern(p);
                }
                if let Some(n) = &a.name {
                    self.bind(
                        n.as_str(),
                        BindingKind::Unknown("a match capture"),
                        n.range(),
                    );
                }
            }
            Pattern::MatchOr(o) => o.patterns.iter().for_each(|p| self.pattern(p)),
        }
    }

    fn comprehension(
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
        self.within(scope, func, |b| {
            for (i, g) in generators.iter().enumerate() {
                if i > 0 {
                    b.expr(&g.iter);
                }
                b.bind_target(&g.target, None, "a comprehension variable");
                for cond in &g.ifs {
                    b.expr(cond);
                }
            }
            for e in elts {
                b.expr(e);
            }
        });
    }

    fn expr(&mut self, expr: &'a Expr) {
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
                    && MUTATING_METHODS.contains(&a.attr.as_str())
                {
                    self.model.mutated.push((&a.value, self.current));
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
            }
            Expr::YieldFrom(y) => self.expr(&y.value),
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
                if s.ctx != ast::ExprContext::Load {
                    self.model.mutated.push((&s.value, self.current));
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

    fn interpolated(&mut self, e: &'a ast::InterpolatedStringElement) {
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
