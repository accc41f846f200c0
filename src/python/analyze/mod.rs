//! The policy checks on `model.py`. Every reference is judged by what it
//! may be (the value interpreter over the scope model), not by how it is
//! spelt; identifiers arrive NFKC-normalised from the parser, as CPython
//! normalises them. Findings in code the evaluator never runs (functions
//! nothing live calls, branches under a proven-false condition) become
//! P116 notes, except the network's own published rules.

use std::collections::BTreeSet;
use std::ops::Range;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Pattern, Stmt};
use ruff_text_size::Ranged;

use crate::config::ConfigFacts;
use crate::diagnostic::{Diagnostic, MAX_REPEATS, Severity};
use crate::policy::Policy;
use crate::python::semantic::{
    Added, MODULE_SCOPE, NODE_CLASS, NODE_COMPREHENSION, NODE_FUNCTION, NODE_LAMBDA, ScopeId,
    SemanticModel,
};
use crate::python::values::{Interpreter, Value, Values};
use crate::rules::code as rules;

mod annotations;
mod arguments;
mod escapes;
mod load_model;
mod names;
mod partial;
mod passed_on;
mod paths;
mod rounds;
mod sinks;
mod stores;
mod uses;
mod wrappers;

use names::{INTROSPECTION_BUILTINS, MODULE_LIKE_ATTRIBUTES};
use paths::is_module_path;
pub use rounds::analyze;

/// What model.py imports and calls, as written (before resolution):
/// recorded where the checks run, so the differential test's comparison
/// with a walk of CPython's AST shows that no import or call goes unseen.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CodeInventory {
    /// `import a.b` gives `a.b`; `from a.b import c` gives `a.b`;
    /// relative imports keep their dots (`..x`).
    pub imports: BTreeSet<String>,
    /// The dotted name of every call whose callee is a name or an
    /// attribute chain (`torch.nn.Linear`, `self.fc`, `getattr`).
    pub calls: BTreeSet<String>,
    /// Calls and library attribute reads with their spans and what gasguard
    /// infers they are (for plugins; not in the JSON report).
    #[serde(skip)]
    pub sites: Vec<Site>,
}

/// One call or attribute read of model.py: where it is, how it is written
/// and the library objects it may be.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub kind: &'static str,
    /// `a.b.c` as written, when the expression is a chain of names.
    pub name: Option<String>,
    pub span: [usize; 2],
    /// What it may be: library paths (`builtins.X` for builtins), or
    /// descriptions of the file's own values.
    pub values: Vec<String>,
}

/// Sites kept per file (a huge file keeps the first ones).
const MAX_SITES: usize = 10_000;

/// `a.b.c` for a chain of names and attributes; `None` for anything else.
fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str().to_string()),
        // Pushed, not formatted: every call and attribute node asks.
        Expr::Attribute(a) => dotted(&a.value).map(|mut base| {
            base.push('.');
            base.push_str(a.attr.as_str());
            base
        }),
        _ => None,
    }
}

/// Evaluation steps for the whole file. Results are remembered, so
/// ordinary models spend a few steps per distinct name; this stops a file
/// that makes every expression re-walk an exploding alias.
const FILE_EVAL_BUDGET: usize = 1_000_000;

/// Rules of the network's published policy: its own analyzer rejects them
/// wherever they are, so they stay errors in code that never runs.
const PUBLISHED_RULES: &[&str] = &["P101", "P102", "P103", "P104"];

pub(crate) fn span(r: impl Ranged) -> Range<usize> {
    let r = r.range();
    usize::from(r.start())..usize::from(r.end())
}

/// Containers a value may hold, followed this deep before P111.
const MAX_CONTAINERS: usize = 256;

/// A literal: what it is is plain, and it holds nothing that can escape.
fn is_literal(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::StringLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::FString(_)
            | Expr::EllipsisLiteral(_)
    )
}

fn is_container(v: &Value) -> bool {
    // A partial holds its callee and the arguments it binds.
    matches!(
        v,
        Value::Seq(..) | Value::Dict(..) | Value::Items(_) | Value::Partial(..)
    )
}

/// The library paths among values (`builtins.X` for builtins).
fn paths(values: &Values) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| match v {
            Value::Lib(p) => Some(p.to_string()),
            Value::Builtin(b) => Some(format!("builtins.{b}")),
            _ => None,
        })
        .collect()
}

pub struct Analyzer<'m, 'a> {
    file: &'m str,
    source: &'m str,
    policy: &'m Policy,
    model: &'m SemanticModel<'a>,
    interp: Interpreter<'m, 'a>,
    /// Scopes that run when the evaluator imports and uses the model.
    live: HashSet<ScopeId>,
    scope: ScopeId,
    /// Inside a branch whose condition is proven false.
    dead: usize,
    eval_steps: usize,
    /// Findings stored per rule (see `report`).
    per_rule: HashMap<&'static str, usize>,
    pub diags: Vec<Diagnostic>,
    pub inventory: CodeInventory,
    reported: HashSet<(usize, &'static str)>,
    /// What the policy says of each resolved path (`paths.rs`), kept
    /// across escape rounds.
    path_memo: paths::PathMemo<'m>,
    /// The file's functions whose values reach a position gasguard does
    /// not follow (`escapes.rs`).
    escaping: HashSet<crate::python::semantic::FuncId>,
    methods: &'m escapes::MethodIndex<'m>,
    /// Functions `functools` may make wrap another module's object
    /// (`wrappers.rs`), worked out on first need.
    foreign_wrappers: Option<wrappers::ForeignWrappers>,
    /// Where each line of model.py starts, made on first use (`line_of`).
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// Classes whose instances may reach a library (`stores.rs`).
    reachable_instances: HashSet<crate::python::semantic::ClassId>,
    /// Values stored on the file's objects, judged at the round's end.
    pending_stores: Vec<stores::PendingStore<'a>>,
}

impl<'m, 'a> Analyzer<'m, 'a> {
    fn report(&mut self, d: Diagnostic, at: Range<usize>) {
        // One finding per rule per place: nested chains are seen more than once.
        if !self.reported.insert((at.start, d.rule.code)) {
            return;
        }
        let never_runs = self.dead > 0 || !self.live.contains(&self.scope);
        let d = if never_runs
            && !PUBLISHED_RULES.contains(&d.rule.code)
            && d.severity != Severity::Info
        {
            let why = if self.dead > 0 {
                "it is under a condition that is never true when the evaluator loads the model"
            } else {
                "nothing the evaluator runs (the module body, load_model, the model's methods) calls it"
            };
            Diagnostic::new(
                &rules::NEVER_RUNS,
                format!(
                    "{} [{}], in code that never runs: {why}",
                    d.message, d.rule.code
                ),
            )
            .help("remove the dead code, or make sure it stays unreachable from load_model")
        } else {
            d
        };
        // Past MAX_REPEATS of a rule, count instead of storing (memory stays
        // flat for a file of 100,000 identical problems).
        let stored = self.per_rule.entry(d.rule.code).or_insert(0);
        *stored += 1;
        if *stored > MAX_REPEATS {
            if let Some(last) = self
                .diags
                .iter_mut()
                .rev()
                .find(|k| k.rule.code == d.rule.code)
            {
                last.omitted += 1;
            }
            return;
        }
        self.diags.push(d.in_file(self.file.to_string()).at(at));
    }

    /// Every value `expr` may have in the current scope, its steps counted
    /// against the file's budget; nothing is reported (see `resolve`).
    fn eval_counted(&mut self, expr: &'a Expr) -> Values {
        self.interp.begin();
        let values = self.interp.eval(expr, self.scope);
        self.eval_steps += self.interp.steps.get();
        values
    }

    /// Every value `expr` may have, reporting P111 at `at` when they cannot
    /// all be enumerated.
    fn resolve(&mut self, expr: &'a Expr, at: Range<usize>) -> Values {
        if self.eval_steps > FILE_EVAL_BUDGET {
            return smallvec::smallvec![Value::Unknown]; // reported once, below; the file is rejected
        }
        let values = self.eval_counted(expr);
        let name = || dotted(expr).unwrap_or_else(|| "this expression".into());
        if self.eval_steps > FILE_EVAL_BUDGET {
            self.report(
                Diagnostic::new(&rules::UNRESOLVABLE_NAME, "model.py aliases names more than gasguard follows in one file; nothing after this point was checked")
                    .help("refer to modules and their functions directly"),
                at,
            );
        } else if self.interp.truncated.get() {
            self.report(
                Diagnostic::new(
                    &rules::UNRESOLVABLE_NAME,
                    format!(
                        "`{}` goes through more aliases than gasguard follows",
                        name()
                    ),
                )
                .help("refer to modules and their functions directly"),
                at,
            );
        } else if self.interp.cycle.get()
            && values
                .iter()
                .any(|v| matches!(v, Value::Lib(_) | Value::Builtin(_)))
        {
            self.report(
                Diagnostic::new(&rules::UNRESOLVABLE_NAME, format!("`{}` holds a module and is rebound from itself, so what it refers to cannot be listed", name()))
                    .help("give each module or function you use its own name"),
                at,
            );
        }
        values
    }

    /// P113 for an assignment to, or deletion of, a library attribute.
    fn check_library_mutation(&mut self, expr: &'a Expr) {
        // What is changed is the receiver: a library module or class.
        let Expr::Attribute(a) = expr else { return };
        self.interp.begin();
        let receiver = self.interp.eval(&a.value, self.scope);
        let values: Values = receiver
            .iter()
            .filter_map(|v| match v {
                Value::Lib(p) => Some(Value::Lib(format!("{p}.{}", a.attr.as_str()).into())),
                _ => None,
            })
            .collect();
        let settings = &self.policy.settings;
        let Some(path) = paths(&values).into_iter().find(|p| {
            !p.starts_with("builtins.")
                && !settings.iter().any(|s| crate::policy::covers(&s.name, p))
        }) else {
            return;
        };
        let shown = dotted(expr).unwrap_or_else(|| path.clone());
        self.report(
            Diagnostic::new(&rules::LIBRARY_MUTATION, format!("`{shown}` changes `{path}`, part of a library the evaluator also uses"))
                .help("keep changes inside your own classes (subclass, or wrap the function in your module)"),
            span(expr),
        );
    }

    fn enter(&mut self, start: ruff_text_size::TextSize, node: u8) -> ScopeId {
        let saved = self.scope;
        if let Some(s) = self.model.scope_of(start, node) {
            self.scope = s;
        }
        saved
    }

    fn visit_body_in(&mut self, scope_start: ruff_text_size::TextSize, node: u8, body: &'a [Stmt]) {
        let saved = self.enter(scope_start, node);
        let dead = std::mem::take(&mut self.dead);
        for s in body {
            self.visit_stmt(s);
        }
        self.dead = dead;
        self.scope = saved;
    }

    /// Visits `body` knowing whether its condition may hold.
    fn visit_branch(&mut self, may_run: bool, body: &'a [Stmt]) {
        if !may_run {
            self.dead += 1;
        }
        for s in body {
            self.visit_stmt(s);
        }
        if !may_run {
            self.dead -= 1;
        }
    }

    fn truth(&mut self, test: &'a Expr) -> Option<bool> {
        self.interp.begin();
        let t = self.interp.truth(test, self.scope, 0);
        self.eval_steps += self.interp.steps.get();
        t
    }

    fn visit_parameters_outer(&mut self, p: &'a ast::Parameters) {
        for param in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            if let Some(d) = &param.default {
                self.visit_expr(d);
            }
            if let Some(a) = &param.parameter.annotation {
                self.visit_annotation(a);
            }
        }
        for v in p.vararg.iter().chain(&p.kwarg) {
            if let Some(a) = &v.annotation {
                self.visit_annotation(a);
            }
        }
    }

    fn visit_comprehension_scope(
        &mut self,
        node: &'a Expr,
        generators: &'a [ast::Comprehension],
        elts: &[&'a Expr],
    ) {
        let Some(first) = generators.first() else {
            return;
        };
        if !binds_names_only(&first.target) {
            self.check_escape(&first.iter);
        }
        self.visit_expr(&first.iter);
        let saved = self.enter(node.range().start(), NODE_COMPREHENSION);
        for (i, g) in generators.iter().enumerate() {
            if i > 0 {
                if !binds_names_only(&g.target) {
                    self.check_escape(&g.iter);
                }
                self.visit_expr(&g.iter);
            }
            self.visit_expr(&g.target);
            for c in &g.ifs {
                self.visit_expr(c);
            }
        }
        // The result holds what the elements may be (followed).
        for e in elts {
            self.visit_expr(e);
        }
        self.scope = saved;
    }
}

impl<'m, 'a> Visitor<'a> for Analyzer<'m, 'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for alias in &i.names {
                    self.inventory.imports.insert(alias.name.to_string());
                    self.check_import_path(alias.name.as_str(), span(alias));
                }
            }
            Stmt::ImportFrom(i) => {
                let at = span(stmt);
                self.inventory.imports.insert(format!(
                    "{}{}",
                    ".".repeat(i.level as usize),
                    i.module.as_ref().map_or("", |m| m.as_str())
                ));
                if i.level > 0 {
                    self.report(
                        Diagnostic::new(
                            &rules::RELATIVE_OR_STAR_IMPORT,
                            "relative import: model.py is imported alone, not as part of a package",
                        )
                        .help("move the code into model.py"),
                        at,
                    );
                    return;
                }
                let module = i.module.as_ref().map_or("", |m| m.as_str());
                if module == "__future__" {
                    return;
                }
                if i.names.iter().any(|a| a.name.as_str() == "*") {
                    self.report(
                        Diagnostic::new(
                            &rules::RELATIVE_OR_STAR_IMPORT,
                            format!("`from {module} import *` binds names nobody can review"),
                        )
                        .help("import the names you use"),
                        at.clone(),
                    );
                }
                self.check_import_path(module, at.clone());
                if self.policy.is_allowed_module(module) {
                    for alias in &i.names {
                        let full = format!("{module}.{}", alias.name.as_str());
                        if self.policy.blocked_module(&full).is_some() {
                            self.check_import_path(&full, span(alias));
                        } else {
                            self.check_module_path(&full, span(alias));
                        }
                        self.check_attribute_name(alias.name.as_str(), span(alias));
                    }
                }
            }
            Stmt::Assign(a) => {
                // Names, unpackings into names, stores into containers and
                // into the file's own objects are followed; any other store
                // is not.
                let mut followed = true;
                for t in &a.targets {
                    followed &= self.target_follows(t, &a.value);
                    // `f.__annotations__[k] = v`, `f.__wrapped__ = g`.
                    followed |= self.check_dunder_store(t, &a.value);
                }
                if !followed {
                    self.check_escape(&a.value);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value
                    && !matches!(a.target.as_ref(), Expr::Name(_))
                {
                    self.check_escape(v);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AugAssign(a) => {
                // `l += x` on a tracked list is recorded as an addition.
                let extends = matches!(a.target.as_ref(), Expr::Name(_))
                    && matches!(a.op, ast::Operator::Add | ast::Operator::BitOr)
                    && self.only_tracked(&a.target);
                if !extends {
                    self.check_escape(&a.value);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::For(f) => {
                // Iterated into names, the elements are followed.
                if binds_names_only(&f.target) {
                    let values = self.resolve(&f.iter, span(&*f.iter));
                    self.check_escaping_value(&f.iter, &values, false);
                } else {
                    self.check_escape(&f.iter);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    // Entering the file's own instances is followed
                    // (`protocols.rs`, `async with` too); anything else is not.
                    let values = self.eval_counted(&item.context_expr);
                    let entered = !values.is_empty()
                        && values.iter().all(|v| matches!(v, Value::Instance(_)));
                    if !entered {
                        self.check_escape(&item.context_expr);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Match(m) => {
                // Captures are bound to the parts of the subject they match,
                // except under a class pattern's positional sub-patterns.
                if !m.cases.iter().all(|c| pattern_followed(&c.pattern)) {
                    self.check_escape(&m.subject);
                } else if m.cases.iter().any(|c| reads_attributes(&c.pattern)) {
                    // `case list(pop=p)` takes a container's method.
                    let values = self.resolve(&m.subject, span(&*m.subject));
                    self.check_contents(&m.subject, &values);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::FunctionDef(f) => {
                // Python calls the decorators with the function: followed
                // when they are plain functions of model.py.
                let followed = self
                    .model
                    .scope_of(f.range().start(), NODE_FUNCTION)
                    .and_then(|s| self.model.scopes[s].func)
                    .is_some_and(|func| self.interp.file_decorators(func).is_some());
                for d in &f.decorator_list {
                    if !followed {
                        self.record_escaping_expr(&d.expression);
                    }
                    self.visit_decorator(d);
                }
                self.visit_parameters_outer(&f.parameters);
                if let Some(r) = &f.returns {
                    self.visit_annotation(r);
                }
                self.check_identifier(f.name.as_str(), span(&f.name));
                let saved = self.enter(f.range().start(), NODE_FUNCTION);
                if let Some(tp) = &f.type_params {
                    self.visit_type_params(tp);
                }
                self.scope = saved;
                self.visit_body_in(f.range().start(), NODE_FUNCTION, &f.body);
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.record_escaping_expr(&d.expression);
                    self.visit_decorator(d);
                }
                if let Some(args) = &c.arguments {
                    // `metaclass=M` and the keywords it receives.
                    for k in &args.keywords {
                        self.record_escaping_expr(&k.value);
                    }
                    // A metaclass makes the instances (`stores.rs`).
                    if !args.keywords.is_empty()
                        && let Some(k) = self
                            .model
                            .scope_of(c.range().start(), NODE_CLASS)
                            .and_then(|s| self.model.scopes[s].class)
                    {
                        self.instances_reach_library(k);
                    }
                    self.visit_arguments(args);
                }
                self.check_identifier(c.name.as_str(), span(&c.name));
                let saved = self.enter(c.range().start(), NODE_CLASS);
                if let Some(tp) = &c.type_params {
                    self.visit_type_params(tp);
                }
                // A class body binds class attributes: tracked like names.
                for s in &c.body {
                    if let Stmt::Assign(a) = s {
                        let match_args = a.targets.iter().any(
                            |t| matches!(t, Expr::Name(n) if n.id.as_str() == "__match_args__"),
                        );
                        if match_args {
                            self.check_match_args(&a.value);
                        }
                    }
                }
                self.scope = saved;
                self.visit_body_in(c.range().start(), NODE_CLASS, &c.body);
            }
            Stmt::If(i) => {
                self.visit_expr(&i.test);
                let t = self.truth(&i.test);
                let mut earlier_may_hold = t != Some(true);
                self.visit_branch(t != Some(false), &i.body);
                for clause in &i.elif_else_clauses {
                    match &clause.test {
                        Some(test) => {
                            self.visit_expr(test);
                            let ct = self.truth(test);
                            self.visit_branch(earlier_may_hold && ct != Some(false), &clause.body);
                            earlier_may_hold &= ct != Some(true);
                        }
                        None => self.visit_branch(earlier_may_hold, &clause.body),
                    }
                }
            }
            Stmt::Return(r) => {
                // Returns are followed into the calls of a function whose
                // every call gasguard sees.
                if let Some(v) = &r.value {
                    let func = self.model.scopes[self.scope].func;
                    if func.is_some() && func == self.interp.load_model() {
                        // The evaluator calls what load_model returns.
                        self.record_escaping_expr(v);
                    }
                    // A generator's return value goes to `StopIteration`.
                    let followed = func.is_some_and(|f| {
                        self.interp.follows_returns(f) && !self.interp.is_generator(f)
                    });
                    if let Some(f) = func.filter(|f| self.interp.is_property(*f)) {
                        // Read as an attribute of the file's objects, like
                        // a stored attribute (`store_follows`).
                        let receivers = match self.model.functions[f].class {
                            Some(k) => smallvec::smallvec![Value::Instance(k)],
                            None => smallvec::smallvec![Value::Unknown],
                        };
                        self.check_stored_value(v, receivers);
                    } else if !followed {
                        self.check_escape(v);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Raise(r) => {
                // Python calls a raised class; handlers receive the instance.
                for e in r.exc.iter().chain(&r.cause) {
                    self.record_escaping_expr(e);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test);
                let t = self.truth(&w.test);
                self.visit_branch(t != Some(false), &w.body);
                for s in &w.orelse {
                    self.visit_stmt(s);
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_annotation(&mut self, expr: &'a Expr) {
        self.check_annotation(expr);
        self.visit_expr(expr);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        if let Pattern::MatchClass(c) = pattern {
            // `case C(attr=p)` reads `subject.attr`.
            for k in &c.arguments.keywords {
                self.check_attribute_name(k.attr.as_str(), span(&k.attr));
            }
        }
        visitor::walk_pattern(self, pattern);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) => {
                self.check_identifier(n.id.as_str(), span(n));
                if n.ctx == ast::ExprContext::Load {
                    let lookup = self.model.lookup(self.scope, n.id.as_str());
                    if lookup.scopes.is_empty() && !lookup.builtin {
                        self.report(
                            Diagnostic::new(&rules::UNRESOLVABLE_NAME, format!("`{}` is bound nowhere in model.py and is not a builtin", n.id))
                                .help("define it, or import it; a name that exists only at run time can be anything"),
                            span(n),
                        );
                    }
                    let values = self.resolve(expr, span(n));
                    self.check_paths(&values, span(n));
                }
            }
            Expr::Attribute(a) => {
                let attr = a.attr.as_str();
                self.check_attribute_name(attr, span(&a.attr));
                self.record_opaque_attribute(a);
                self.check_exception_attribute(a);
                let values = self.resolve(expr, span(expr));
                if a.ctx == ast::ExprContext::Load {
                    self.check_path_method(a);
                    // Judged by name whatever the receiver, called or only
                    // referenced (`w = p.write_text; w("x")`).
                    if let Some(m) = self.policy.methods.iter().find(|m| m.name == attr).cloned() {
                        self.report(
                            Diagnostic::new(&rules::DANGEROUS_API, format!("`.{attr}`: {}", m.reason))
                                .help("the model must not change the file system or reach outside the submission"),
                            span(expr),
                        );
                    }
                } else {
                    self.check_library_mutation(expr);
                }
                if MODULE_LIKE_ATTRIBUTES.contains(&attr) {
                    self.interp.begin();
                    let receiver = self.interp.eval(&a.value, self.scope);
                    if !receiver.iter().any(|v| matches!(v, Value::Lib(_))) {
                        self.report(
                            Diagnostic::new(&rules::MODULE_VIA_ATTRIBUTE, format!("`.{attr}` on a value gasguard cannot resolve reads like the module `{attr}`"))
                                .help("rename the attribute; reaching a module through an object's attributes is how the policy is evaded"),
                            span(&a.attr),
                        );
                    }
                }
                self.check_paths(&values, span(expr));
                if a.ctx == ast::ExprContext::Load
                    && values.iter().any(|v| matches!(v, Value::Lib(_)))
                {
                    self.record_site("attribute", expr, span(expr), &values);
                }
                if !crate::python::values::FOLLOWED_METHODS.contains(&attr)
                    && !crate::python::values::GROUP_ATTRIBUTES.contains(&attr)
                    && !self.reads_partial_attribute(a)
                {
                    self.check_container_use(&a.value);
                }
                // The base is checked link by link; as a chain's base a
                // module is not an escaping value.
                self.visit_expr(&a.value);
            }
            // A container literal's elements are followed (`containers.rs`);
            // the container is judged by what it holds wherever it is used
            // in a way gasguard does not follow.
            // An operator calls the operands' methods (a class of the file
            // may define `__eq__` or `__add__` and take the other operand).
            Expr::BinOp(b) => {
                for operand in [&*b.left, &*b.right] {
                    self.check_operand(operand);
                }
                visitor::walk_expr(self, expr);
            }
            // `not x` asks only `x` its truth: no other value is passed.
            Expr::UnaryOp(u) => {
                if u.op != ast::UnaryOp::Not {
                    self.check_operand(&u.operand);
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Compare(c) => {
                let identity_only = c
                    .ops
                    .iter()
                    .all(|op| matches!(op, ast::CmpOp::Is | ast::CmpOp::IsNot));
                if !identity_only {
                    for operand in std::iter::once(&*c.left).chain(c.comparators.iter()) {
                        self.check_operand(operand);
                    }
                }
                visitor::walk_expr(self, expr);
            }
            // What a followed generator yields is what its calls give
            // (`protocols.rs`).
            Expr::Yield(y) => {
                if let Some(v) = &y.value
                    && !self.yields_followed()
                {
                    self.check_escape(v);
                }
                visitor::walk_expr(self, expr);
            }
            Expr::YieldFrom(y) => {
                if !self.yields_followed() {
                    self.check_escape(&y.value);
                }
                visitor::walk_expr(self, expr);
            }
            // Awaiting a coroutine of the file's gives what it returns
            // (`protocols.rs`); any other awaitable is not followed.
            Expr::Await(a) => {
                let values = self.eval_counted(&a.value);
                if values.is_empty() || !values.iter().all(|v| matches!(v, Value::Items(_))) {
                    self.check_escape(&a.value);
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Call(c) => {
                let name = dotted(&c.func);
                if let Some(name) = &name
                    && !self.inventory.calls.contains(name)
                {
                    self.inventory.calls.insert(name.clone());
                }
                let callees = self.resolve(&c.func, span(&*c.func));
                self.record_site_named("call", name, span(c), &callees);
                // Arguments of model.py's own functions are followed into
                // their parameters; introspection builtins only look.
                let introspection = callees
                    .iter()
                    .any(|v| matches!(v, Value::Builtin(b) if INTROSPECTION_BUILTINS.contains(b)));
                // `list(x)`, `next(it)`, `enumerate(x)`: followed into
                // their results (a `key=` function would take the elements).
                let container_builtin = !callees.is_empty()
                    && crate::python::semantic::plain_arguments(c)
                    && callees.iter().all(|v| matches!(v, Value::Builtin(b) if crate::python::values::CONTAINER_BUILTINS.contains(b)));
                // `super(C, self)` with `C` a class of the file: the class
                // only starts the look-up, and `self` must be an instance
                // of it (`escapes.rs` follows what is read through it).
                let explicit_super = c.arguments.args.len() == 2
                    && matches!(&callees[..], [Value::Builtin(b)] if *b == "super")
                    && matches!(self.super_call(expr), Some(Some(_)));
                let followed = self.interp.follows_arguments(&callees)
                    || self.records_addition(c)
                    || container_builtin
                    || explicit_super;
                // The file's exceptions keep their arguments in `.args`,
                // followed where read (`protocols.rs`); the file's functions
                // among them may still be called by whoever reads them.
                let constructs = !followed && self.interp.follows_construction(&callees, c);
                if constructs {
                    for arg in &c.arguments.args {
                        match arg {
                            Expr::Starred(s) => self.record_escaping_expr(&s.value),
                            other => self.record_escaping_expr(other),
                        }
                    }
                    for k in &c.arguments.keywords {
                        self.record_escaping_expr(&k.value);
                    }
                }
                let followed = followed || constructs;
                // `*xs` and `**mapping` into the file's own functions are
                // followed into the parameters (`closed_world.rs`).
                // A partial of an API is followed as a value (`partial.rs`).
                let partial = self.makes_partial(expr, c, &callees);
                for (i, arg) in c.arguments.args.iter().enumerate() {
                    if i == 0 && partial {
                        self.check_partial_callee(arg);
                    } else if !(introspection || followed) {
                        self.check_escape(arg);
                    }
                }
                for k in &c.arguments.keywords {
                    if !followed {
                        self.check_escape(&k.value);
                    }
                }
                if c.arguments.args.len() == 3
                    && callees
                        .iter()
                        .any(|v| matches!(v, Value::Builtin(b) if *b == "type"))
                {
                    self.report(
                        Diagnostic::new(&rules::DUNDER_ACCESS, "`type(name, bases, namespace)` builds a class from a dict, whose keys can set any dunder (`__annotations__`, `__init_subclass__` hooks)")
                            .help("define the class with a `class` statement"),
                        span(c),
                    );
                }
                self.record_attribute_builtin(c, &callees);
                self.record_unseen_call(c, &callees);
                self.check_call_conditions(c, &callees);
                self.check_method_call(c, self.scope);
                self.check_format_string(c);
                visitor::walk_expr(self, expr);
            }
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    self.visit_parameters_outer(p);
                }
                let saved = self.enter(l.range().start(), NODE_LAMBDA);
                // A lambda's body is its return value.
                let followed = self.model.scopes[self.scope]
                    .func
                    .is_some_and(|f| self.interp.follows_returns(f));
                if !followed {
                    self.check_escape(&l.body);
                }
                self.visit_expr(&l.body);
                self.scope = saved;
            }
            Expr::ListComp(c) => self.visit_comprehension_scope(expr, &c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.visit_comprehension_scope(expr, &c.generators, &[&c.elt]),
            Expr::Generator(c) => self.visit_comprehension_scope(expr, &c.generators, &[&c.elt]),
            Expr::DictComp(c) => {
                let elts: Vec<&Expr> = c.key.as_deref().into_iter().chain([&*c.value]).collect();
                self.visit_comprehension_scope(expr, &c.generators, &elts);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// Whether every capture of a pattern is bound to the part of the subject
/// it matches (the scope model follows all but class patterns' positional
/// sub-patterns, which read the attributes `__match_args__` names).
fn pattern_followed(p: &Pattern) -> bool {
    match p {
        Pattern::MatchValue(_) | Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => true,
        Pattern::MatchSequence(s) => s.patterns.iter().all(pattern_followed),
        Pattern::MatchMapping(m) => {
            m.keys.iter().all(|k| matches!(k, Expr::StringLiteral(_)))
                && m.patterns.iter().all(pattern_followed)
        }
        Pattern::MatchClass(c) => {
            c.arguments.patterns.is_empty()
                && c.arguments
                    .keywords
                    .iter()
                    .all(|k| pattern_followed(&k.pattern))
        }
        Pattern::MatchAs(a) => a.pattern.as_deref().is_none_or(pattern_followed),
        Pattern::MatchOr(o) => o.patterns.iter().all(pattern_followed),
    }
}

/// Whether a pattern reads attributes of the subject (class patterns'
/// keywords).
fn reads_attributes(p: &Pattern) -> bool {
    match p {
        Pattern::MatchValue(_) | Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => false,
        Pattern::MatchSequence(s) => s.patterns.iter().any(reads_attributes),
        Pattern::MatchMapping(m) => m.patterns.iter().any(reads_attributes),
        Pattern::MatchClass(c) => {
            !c.arguments.keywords.is_empty() || c.arguments.patterns.iter().any(reads_attributes)
        }
        Pattern::MatchAs(a) => a.pattern.as_deref().is_some_and(reads_attributes),
        Pattern::MatchOr(o) => o.patterns.iter().any(reads_attributes),
    }
}

/// Whether a target binds names only (unpacked ones included), which the
/// scope model follows into the value's elements.
fn binds_names_only(target: &Expr) -> bool {
    match target {
        Expr::Name(_) => true,
        Expr::Starred(s) => binds_names_only(&s.value),
        Expr::Tuple(t) => t.elts.iter().all(binds_names_only),
        Expr::List(l) => l.elts.iter().all(binds_names_only),
        _ => false,
    }
}

/// Whether `target` and `value` are tuples/lists of the same length with
/// no starred element (unpacked pairwise).
fn pairwise_shapes(target: &Expr, value: &Expr) -> bool {
    let (ts, vs) = (elements(target), elements(value));
    ts.len() == vs.len() && !ts.iter().chain(vs).any(|e| matches!(e, Expr::Starred(_)))
}

/// A tuple or list literal's elements.
fn elements(e: &Expr) -> &[Expr] {
    crate::python::semantic::sequence_elements(e).unwrap_or(&[])
}
