//! The policy checks on `model.py`'s AST. Every reference is judged by what
//! it resolves to (imports and simple aliases followed through scopes), not
//! by how it is spelt; identifiers arrive NFKC-normalised from the parser,
//! as CPython normalises them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::config::ConfigFacts;
use crate::diagnostic::{Diagnostic, MAX_REPEATS, Severity};
use crate::policy::{ApiCondition, Policy};
use crate::rules::code as rules;

const DUNDER_ATTRIBUTES: &[&str] = &[
    "__class__",
    "__base__",
    "__bases__",
    "__subclasses__",
    "__mro__",
    "mro",
    "__globals__",
    "__code__",
    "__closure__",
    "__dict__",
    "__getattribute__",
    "__reduce__",
    "__reduce_ex__",
    "__builtins__",
    "__import__",
    "__loader__",
    "__spec__",
    "__self__",
    "__func__",
    "__defaults__",
    "__kwdefaults__",
    "__traceback__",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "f_back",
    "f_globals",
    "f_locals",
    "f_builtins",
    "f_code",
    "tb_frame",
    "tb_next",
    "co_code",
];

/// Builtins that may take a module as an argument: they answer questions
/// about it and return nothing that reaches into it.
const INTROSPECTION_BUILTINS: &[&str] = &[
    "builtins.hasattr",
    "builtins.isinstance",
    "builtins.issubclass",
    "builtins.callable",
    "builtins.type",
    "builtins.id",
    "builtins.repr",
    "builtins.str",
    "builtins.print",
];

/// Attribute names that, on a receiver gasguard cannot resolve, can only be
/// a way to reach these modules (`(lambda: torch)().os`).
const MODULE_LIKE_ATTRIBUTES: &[&str] = &[
    "os",
    "sys",
    "subprocess",
    "builtins",
    "bltns",
    "_sys",
    "_os",
    "importlib",
    "ctypes",
    "socket",
    "pickle",
    "marshal",
    "shutil",
    "posix",
    "_posixsubprocess",
    "runpy",
];

mod generated {
    include!(concat!(env!("OUT_DIR"), "/module_attributes.rs"));
}

/// The real module behind `container.attribute`, from the table generated
/// from the evaluator's libraries (`rules/module-attributes.txt`).
fn module_attribute(container: &str, attribute: &str) -> Option<&'static str> {
    generated::MODULE_ATTRIBUTES
        .binary_search_by(|(c, a, _)| (*c, *a).cmp(&(container, attribute)))
        .ok()
        .map(|i| generated::MODULE_ATTRIBUTES[i].2)
}

#[derive(Clone, Debug)]
enum Binding {
    /// A module or an object inside one, by dotted path.
    Path(String),
    /// An alias of an expression (`t = torch.utils`), resolved on use.
    Alias(Expr),
    /// Anything else a name can be bound to.
    Opaque,
}

#[derive(Default)]
struct Scope {
    bindings: HashMap<String, Vec<Binding>>,
    is_class: bool,
}

/// What model.py imports and calls, as written (before alias resolution):
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
}

/// `a.b.c` for a chain of names and attributes; `None` for anything else.
fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => dotted(&a.value).map(|base| format!("{base}.{}", a.attr.as_str())),
        _ => None,
    }
}

/// Bounds of alias resolution; past them a name is reported (P111), never
/// silently treated as opaque.
const MAX_ALIAS_DEPTH: usize = 64;
/// Steps (names visited plus paths produced) for one expression.
const RESOLVE_BUDGET: usize = 2_000;
/// Possible paths of one name.
const MAX_PATHS: usize = 256;
/// Steps for the whole file. Results are remembered per scope, so ordinary
/// models spend a few steps per distinct name; this stops a file that makes
/// every scope re-resolve an exploding alias.
const FILE_RESOLVE_BUDGET: usize = 1_000_000;

/// The state of one top-level resolution (resolution itself borrows the
/// analyzer immutably).
#[derive(Default)]
struct Resolution {
    /// (scope, name) pairs being resolved: meeting one again is a cycle.
    active: RefCell<Vec<(usize, String)>>,
    steps: Cell<usize>,
    /// A depth or step limit cut the enumeration short.
    truncated: Cell<bool>,
    /// A name was met inside its own resolution.
    cycle: Cell<bool>,
}

pub struct Analyzer<'a> {
    file: &'a str,
    policy: &'a Policy,
    scopes: Vec<Scope>,
    resolution: Resolution,
    /// Resolution steps spent on the file so far.
    resolve_steps: usize,
    /// Spans of expressions where a module may stand as a value: the value
    /// of a plain name assignment (tracked as an alias) and the arguments of
    /// introspection builtins.
    module_value_ok: HashSet<(usize, usize)>,
    /// Findings stored per rule (see `report`).
    per_rule: HashMap<&'static str, usize>,
    /// Results for the current scope stack: (paths, truncated, cycle) by
    /// dotted name. Cleared whenever a scope is entered or left.
    resolved: HashMap<String, (Vec<Option<String>>, bool, bool)>,
    pub diags: Vec<Diagnostic>,
    pub inventory: CodeInventory,
    reported: HashSet<(usize, &'static str)>,
}

fn span(r: impl Ranged) -> Range<usize> {
    let r = r.range();
    usize::from(r.start())..usize::from(r.end())
}

impl<'a> Analyzer<'a> {
    pub fn new(file: &'a str, policy: &'a Policy) -> Self {
        Analyzer {
            file,
            policy,
            scopes: Vec::new(),
            diags: Vec::new(),
            inventory: CodeInventory::default(),
            resolution: Resolution::default(),
            resolve_steps: 0,
            module_value_ok: HashSet::new(),
            per_rule: HashMap::new(),
            resolved: HashMap::new(),
            reported: HashSet::new(),
        }
    }

    fn report(&mut self, d: Diagnostic, at: Range<usize>) {
        // One finding per rule per place: nested chains are seen more than once.
        if !self.reported.insert((at.start, d.rule.code)) {
            return;
        }
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

    pub fn run(&mut self, module: &ast::ModModule) {
        self.push_scope(collect(&module.body, None, false));
        for stmt in &module.body {
            self.visit_stmt(stmt);
        }
    }

    /// Every dotted path `expr` may refer to (`None` entries are opaque),
    /// reporting P111 at `at` when they cannot all be enumerated.
    fn resolve(&mut self, expr: &Expr, at: Range<usize>) -> Vec<Option<String>> {
        if self.resolve_steps > FILE_RESOLVE_BUDGET {
            return vec![None]; // reported once, below; the file is rejected
        }
        let name = dotted(expr);
        let (paths, truncated, cycle) = match name.as_ref().and_then(|n| self.resolved.get(n)) {
            Some(known) => known.clone(),
            None => {
                self.resolution = Resolution::default();
                let paths = self.resolve_expr(expr, 0);
                let r = &self.resolution;
                let result = (paths, r.truncated.get(), r.cycle.get());
                self.resolve_steps += r.steps.get();
                if let Some(n) = &name {
                    self.resolved.insert(n.clone(), result.clone());
                }
                result
            }
        };
        let name = name.unwrap_or_else(|| "this expression".into());
        if self.resolve_steps > FILE_RESOLVE_BUDGET {
            self.report(
                Diagnostic::new(&rules::UNRESOLVABLE_NAME, "model.py aliases names more than gasguard follows in one file; nothing after this point was checked")
                    .help("refer to modules and their functions directly"),
                at,
            );
        } else if truncated {
            self.report(
                Diagnostic::new(
                    &rules::UNRESOLVABLE_NAME,
                    format!("`{name}` goes through more aliases than gasguard follows"),
                )
                .help("refer to modules and their functions directly"),
                at,
            );
        } else if cycle && paths.iter().any(Option::is_some) {
            self.report(
                Diagnostic::new(&rules::UNRESOLVABLE_NAME, format!("`{name}` holds a module and is rebound from itself, so what it refers to cannot be listed"))
                    .help("give each module or function you use its own name"),
                at,
            );
        }
        paths
    }

    /// Whether `path` is a module: an imported root and then only
    /// module-valued attributes (from the generated table).
    fn is_module_path(path: &str) -> bool {
        if path.starts_with("builtins.") {
            return false;
        }
        let mut parts = path.split('.');
        let Some(root) = parts.next() else {
            return false;
        };
        let mut current = root.to_string();
        for attr in parts {
            match module_attribute(&current, attr) {
                Some(real) => current = real.to_string(),
                None => return false,
            }
        }
        true
    }

    fn allow_module_value(&mut self, expr: &Expr) {
        let r = span(expr);
        self.module_value_ok.insert((r.start, r.end));
    }

    /// P112 for a module standing where its value escapes name tracking.
    fn check_module_value(&mut self, expr: &Expr, paths: &[Option<String>]) {
        let r = span(expr);
        if self.module_value_ok.contains(&(r.start, r.end)) {
            return;
        }
        if let Some(module) = paths.iter().flatten().find(|p| Self::is_module_path(p)) {
            let shown = dotted(expr).unwrap_or_else(|| module.clone());
            self.report(
                Diagnostic::new(&rules::MODULE_AS_VALUE, format!("the module `{module}` (`{shown}`) is used as a value, where gasguard cannot follow what is reached through it"))
                    .help("use the module's attributes directly (`torch.nn.Linear`) or give it a name (`nn = torch.nn`)"),
                r,
            );
        }
    }

    /// P113 for an assignment to, or deletion of, a library attribute.
    fn check_library_mutation(&mut self, expr: &Expr, paths: &[Option<String>]) {
        let settings = &self.policy.settings;
        let Some(path) = paths
            .iter()
            .flatten()
            .find(|p| !settings.iter().any(|s| crate::policy::covers(&s.name, p)))
            .cloned()
        else {
            return;
        };
        let shown = dotted(expr).unwrap_or_else(|| path.clone());
        self.report(
            Diagnostic::new(&rules::LIBRARY_MUTATION, format!("`{shown}` changes `{path}`, part of a library the evaluator also uses"))
                .help("keep changes inside your own classes (subclass, or wrap the function in your module)"),
            span(expr),
        );
    }

    fn push_scope(&mut self, scope: Scope) {
        self.scopes.push(scope);
        self.resolved.clear();
    }

    fn pop_scope(&mut self) {
        self.scopes.pop();
        self.resolved.clear();
    }

    /// Every dotted path a name may refer to; `None` entries are opaque.
    /// A name met inside its own resolution contributes nothing (its other
    /// bindings are enumerated; `resolve` reports the cycle).
    fn resolve_name(&self, name: &str, depth: usize) -> Vec<Option<String>> {
        let r = &self.resolution;
        r.steps.set(r.steps.get() + 1);
        if depth > MAX_ALIAS_DEPTH || r.steps.get() > RESOLVE_BUDGET {
            r.truncated.set(true);
            return vec![None];
        }
        let innermost = self.scopes.len().saturating_sub(1);
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            if scope.is_class && i != innermost {
                continue; // class bodies do not enclose their methods
            }
            if let Some(bindings) = scope.bindings.get(name) {
                let key = (i, name.to_string());
                if r.active.borrow().contains(&key) {
                    r.cycle.set(true);
                    return Vec::new();
                }
                r.active.borrow_mut().push(key);
                let mut paths: Vec<Option<String>> = bindings
                    .iter()
                    .flat_map(|b| match b {
                        Binding::Path(p) => vec![Some(p.clone())],
                        Binding::Alias(e) => self.resolve_expr(e, depth + 1),
                        Binding::Opaque => vec![None],
                    })
                    .collect();
                r.active.borrow_mut().pop();
                paths.sort();
                paths.dedup();
                r.steps.set(r.steps.get() + paths.len());
                if paths.len() > MAX_PATHS {
                    r.truncated.set(true);
                    return vec![None];
                }
                return paths;
            }
        }
        vec![Some(format!("builtins.{name}"))]
    }

    /// Dotted paths of a Name/Attribute chain.
    fn resolve_expr(&self, expr: &Expr, depth: usize) -> Vec<Option<String>> {
        match expr {
            Expr::Name(n) => self.resolve_name(n.id.as_str(), depth),
            Expr::Attribute(a) => self
                .resolve_expr(&a.value, depth)
                .into_iter()
                .map(|p| p.map(|p| format!("{p}.{}", a.attr.as_str())))
                .collect(),
            _ => vec![None],
        }
    }

    fn check_import_path(&mut self, module: &str, at: Range<usize>) {
        if let Some(b) = self.policy.blocked_module(module) {
            let (cat, reason) = (b.category.clone(), b.reason.clone());
            self.report(
                Diagnostic::new(
                    &rules::IMPORT_NOT_ALLOWED,
                    format!("`{module}` is blocked ({cat}): {reason}"),
                )
                .help("the network's analyzer rejects it; remove the import and what uses it"),
                at,
            );
        } else if !self.policy.is_allowed_module(module) {
            self.report(
                Diagnostic::new(
                    &rules::IMPORT_NOT_ALLOWED,
                    format!("`{module}` is not on the allowlist"),
                )
                .help(
                    "only the modules listed in the policy may be imported (`gasguard rules P101`)",
                ),
                at,
            );
        } else {
            self.check_path(module, at);
        }
    }

    /// Checks a fully resolved dotted path (an import or a reference).
    fn check_path(&mut self, path: &str, at: Range<usize>) {
        let Some(rest) = path.strip_prefix("builtins.") else {
            return self.check_module_path(path, at);
        };
        if let Some(call) = self.policy.blocked_calls.iter().find(|c| c.name == rest) {
            let reason = call.reason.clone();
            self.report(
                Diagnostic::new(
                    &rules::BLOCKED_BUILTIN,
                    format!("`{rest}` is blocked: {reason}"),
                )
                .help(
                    "use the object directly (a dict of layers instead of getattr, for instance)",
                ),
                at,
            );
        }
    }

    fn check_module_path(&mut self, path: &str, at: Range<usize>) {
        if let Some(b) = self.policy.blocked_submodule(path) {
            let (name, reason) = (b.name.clone(), b.reason.clone());
            self.report(
                Diagnostic::new(
                    &rules::BLOCKED_SUBMODULE,
                    format!("`{path}` reaches the blocked `{name}`: {reason}"),
                )
                .help("remove it; the network's analyzer rejects it"),
                at.clone(),
            );
        }
        let mut parts = path.split('.');
        let Some(root) = parts.next() else { return };
        if !self.policy.is_allowed_module(root) {
            return; // its import is what gets reported
        }
        let mut current = root.to_string();
        for attr in parts {
            match module_attribute(&current, attr).map(str::to_string) {
                Some(real) if !self.policy.is_allowed_module(&real) => {
                    self.report(
                        Diagnostic::new(&rules::MODULE_VIA_ATTRIBUTE, format!("`{current}.{attr}` is the module `{real}`, which is not allowed"))
                            .help("an allowed module's attribute is still the blocked module; do not reach through it"),
                        at,
                    );
                    return;
                }
                Some(real) => current = real,
                // Not a module attribute in the pinned libraries, yet named like
                // a blocked module: a newer version's rename or a crafted path.
                None if self.policy.blocked_module(attr).is_some() => {
                    self.report(
                        Diagnostic::new(
                            &rules::MODULE_VIA_ATTRIBUTE,
                            format!("`{current}.{attr}` names the blocked module `{attr}`"),
                        )
                        .help("do not reach modules through another module's attributes"),
                        at,
                    );
                    return;
                }
                None => current = format!("{current}.{attr}"),
            }
        }
        let always: Vec<_> = self
            .policy
            .apis
            .iter()
            .filter(|a| a.when == ApiCondition::Always && crate::policy::covers(&a.name, path))
            .map(|a| (a.name.clone(), a.reason.clone()))
            .collect();
        for (name, reason) in always {
            self.report(
                Diagnostic::new(
                    &rules::DANGEROUS_API,
                    format!("`{path}` uses `{name}`: {reason}"),
                )
                .help("load weights with safetensors and build everything from local files"),
                at.clone(),
            );
        }
    }

    fn check_call(&mut self, call: &ast::ExprCall) {
        let at = span(call);
        let paths: Vec<String> = self
            .resolve(&call.func, span(&*call.func))
            .into_iter()
            .flatten()
            .collect();
        if paths
            .iter()
            .any(|p| INTROSPECTION_BUILTINS.contains(&p.as_str()))
        {
            for arg in &call.arguments.args {
                self.allow_module_value(arg);
            }
        }
        for path in &paths {
            let conditional: Vec<_> = self
                .policy
                .apis
                .iter()
                .filter(|a| a.when != ApiCondition::Always)
                .filter(|a| {
                    crate::policy::covers(&a.name, path)
                        || (a.name == "open" && path == "builtins.open")
                })
                .cloned()
                .collect();
            for api in conditional {
                if let Some(why) = condition_met(&api.when, call, path) {
                    if api.name == "open" {
                        self.report(
                            Diagnostic::new(&rules::OPEN_CALL, format!("open() {why}: {}", api.reason))
                                .severity(Severity::Error)
                                .help("the model must not write files; read-only access needs a literal mode such as \"r\""),
                            at.clone(),
                        );
                    } else {
                        self.report(
                            Diagnostic::new(&rules::DANGEROUS_API, format!("`{path}` {why}: {}", api.reason))
                                .help("build the model from files inside the submission (weights in the safetensors file)"),
                            at.clone(),
                        );
                    }
                }
            }
            if path == "builtins.open"
                && condition_met(&ApiCondition::WriteMode, call, path).is_none()
            {
                self.report(
                    Diagnostic::new(&rules::OPEN_CALL, "open() reads a file")
                        .help("fine for a config.json inside the submission; the sandbox allows nothing else"),
                    at.clone(),
                );
            }
        }
        if let Expr::Attribute(a) = call.func.as_ref() {
            let method = a.attr.as_str();
            // `.open(...)` of an object gasguard cannot type (a pathlib.Path):
            // judged by its mode argument, when it is a literal mode.
            if method == "open" && paths.is_empty() {
                // A positional argument may be a path (`Image.open(p)`): only
                // a literal mode counts there; `mode=` always counts.
                let why = match (call.arguments.args.first(), keyword(call, "mode")) {
                    (Some(Expr::StringLiteral(m)), _) | (None, Some(Expr::StringLiteral(m)))
                        if is_open_mode(m.value.to_str()) =>
                    {
                        let m = m.value.to_str();
                        m.contains(['w', 'a', 'x', '+'])
                            .then(|| format!("opens a file in mode {m:?}"))
                    }
                    (None, Some(_)) => {
                        Some("opens a file in a mode that is not a literal".to_string())
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    self.report(
                        Diagnostic::new(&rules::OPEN_CALL, format!(".open() {why}: writes files outside the submission"))
                            .severity(Severity::Error)
                            .help("the model must not write files; read-only access needs a literal mode such as \"r\""),
                        at.clone(),
                    );
                }
            }
            // "{0.__class__}".format(x): attribute access hidden in a format string.
            if (method == "format" || method == "format_map")
                && let Expr::StringLiteral(s) = a.value.as_ref()
            {
                let text = s.value.to_str();
                if let Some(attr) = format_field_attributes(text)
                    .into_iter()
                    .find(|f| DUNDER_ATTRIBUTES.contains(&f.as_str()))
                {
                    self.report(
                        Diagnostic::new(&rules::DUNDER_ACCESS, format!("the format string reads the attribute `{attr}`"))
                            .help("format fields can walk attributes like code does; pass the values you need instead"),
                        span(a.value.as_ref()),
                    );
                }
            }
        }
    }

    fn check_load_model(&mut self, module: &ast::ModModule, facts: &ConfigFacts) {
        let defs: Vec<&ast::StmtFunctionDef> = module
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::FunctionDef(f) if f.name.as_str() == "load_model" => Some(f),
                _ => None,
            })
            .collect();
        let other_binding = module.body.iter().find(|s| match s {
            Stmt::Assign(a) => a
                .targets
                .iter()
                .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == "load_model")),
            Stmt::ClassDef(c) => c.name.as_str() == "load_model",
            _ => false,
        });
        let help = "define `def load_model(weights_path, num_classes=2, **kwargs):` once, at the top level of model.py";
        if let Some(s) = other_binding {
            self.report(
                Diagnostic::new(
                    &rules::LOAD_MODEL_SIGNATURE,
                    "`load_model` is bound by something other than a function definition",
                )
                .help(help),
                span(s),
            );
        }
        let Some(def) = defs.first() else {
            self.report(
                Diagnostic::new(
                    &rules::LOAD_MODEL_SIGNATURE,
                    "model.py defines no top-level `load_model` function",
                )
                .help(help),
                0..0,
            );
            return;
        };
        if defs.len() > 1 {
            self.report(
                Diagnostic::new(
                    &rules::LOAD_MODEL_SIGNATURE,
                    "`load_model` is defined more than once; only the last definition counts",
                )
                .help(help),
                span(&def.name),
            );
        }
        let def = defs.last().copied().unwrap_or(def);
        let p = &def.parameters;
        let at = span(&def.name);
        let positional: Vec<&ast::ParameterWithDefault> =
            p.posonlyargs.iter().chain(p.args.iter()).collect();
        if positional.is_empty() && p.vararg.is_none() {
            self.report(
                Diagnostic::new(
                    &rules::LOAD_MODEL_SIGNATURE,
                    "`load_model` takes no positional weights path",
                )
                .help(help),
                at.clone(),
            );
            return;
        }
        let keyword_names: HashSet<&str> = p
            .args
            .iter()
            .skip(usize::from(p.posonlyargs.is_empty()))
            .chain(p.kwonlyargs.iter())
            .map(|a| a.parameter.name.as_str())
            .collect();
        let accepts = |name: &str| p.kwarg.is_some() || keyword_names.contains(name);
        let mut wanted: Vec<String> = vec!["num_classes".into()];
        wanted.extend(
            facts
                .load_model_kwargs
                .iter()
                .filter(|k| k.as_str() != "num_classes")
                .cloned(),
        );
        for key in wanted {
            if !accepts(&key) {
                let msg = if key == "num_classes" {
                    "`load_model` does not accept `num_classes`".to_string()
                } else {
                    format!(
                        "`load_model` does not accept `{key}`, which model_config.yaml passes under `model:`; the evaluator would fall back to load_model(path, num_classes=...) and drop it"
                    )
                };
                self.report(
                    Diagnostic::new(&rules::LOAD_MODEL_SIGNATURE, msg).help(help),
                    at.clone(),
                );
            }
        }
        // Parameters the call never fills make it fail.
        let provided: HashSet<&str> = facts
            .load_model_kwargs
            .iter()
            .map(String::as_str)
            .chain(["num_classes"])
            .collect();
        for param in positional
            .iter()
            .skip(1)
            .copied()
            .chain(p.kwonlyargs.iter())
        {
            let name = param.parameter.name.as_str();
            if param.default.is_none() && !provided.contains(name) {
                self.report(
                    Diagnostic::new(
                        &rules::LOAD_MODEL_SIGNATURE,
                        format!(
                            "`load_model` requires `{name}`, which the evaluator does not pass"
                        ),
                    )
                    .help("give it a default or add it under `model:` in model_config.yaml"),
                    at.clone(),
                );
            }
        }
    }

    fn check_module_statements(&mut self, module: &ast::ModModule) {
        for stmt in &module.body {
            let fine = match stmt {
                Stmt::Import(_)
                | Stmt::ImportFrom(_)
                | Stmt::FunctionDef(_)
                | Stmt::ClassDef(_) => true,
                Stmt::Assign(_)
                | Stmt::AnnAssign(_)
                | Stmt::AugAssign(_)
                | Stmt::TypeAlias(_)
                | Stmt::Pass(_) => true,
                Stmt::Expr(e) => matches!(*e.value, Expr::StringLiteral(_)),
                Stmt::If(s) => is_main_guard(&s.test) || declarative_if(s),
                Stmt::Try(t) => t
                    .body
                    .iter()
                    .chain(t.handlers.iter().flat_map(|h| {
                        let ast::ExceptHandler::ExceptHandler(h) = h;
                        h.body.iter()
                    }))
                    .all(|s| {
                        matches!(
                            s,
                            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::Assign(_) | Stmt::Pass(_)
                        )
                    }),
                _ => false,
            };
            if !fine {
                self.report(
                    Diagnostic::new(
                        &rules::MODULE_SIDE_EFFECT,
                        "this statement runs when the evaluator imports model.py",
                    )
                    .help("move it into load_model, or under `if __name__ == \"__main__\":`"),
                    span(stmt),
                );
            }
        }
    }
}

/// `if` blocks that only import, assign or pass (version and device switches).
fn declarative_if(s: &ast::StmtIf) -> bool {
    s.body
        .iter()
        .chain(s.elif_else_clauses.iter().flat_map(|c| c.body.iter()))
        .all(|s| match s {
            Stmt::Import(_)
            | Stmt::ImportFrom(_)
            | Stmt::Assign(_)
            | Stmt::AnnAssign(_)
            | Stmt::Pass(_) => true,
            Stmt::If(inner) => declarative_if(inner),
            _ => false,
        })
}

fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let name_is_main = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let lit_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    c.comparators.len() == 1
        && ((name_is_main(&c.left) && lit_main(&c.comparators[0]))
            || (lit_main(&c.left) && name_is_main(&c.comparators[0])))
}

fn keyword<'e>(call: &'e ast::ExprCall, name: &str) -> Option<&'e Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}

/// A literal that is falsy (`False`, `None`, `0`).
fn literally_false(e: &Expr) -> bool {
    match e {
        Expr::BooleanLiteral(b) => !b.value,
        Expr::NoneLiteral(_) => true,
        Expr::NumberLiteral(n) => matches!(&n.value, ast::Number::Int(i) if i.as_u64() == Some(0)),
        _ => false,
    }
}

fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "http://", "https://", "ftp://", "rtsp://", "rtmp://", "s3://", "gs://", "hf://",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// When the call meets the condition, a phrase saying how.
fn condition_met(when: &ApiCondition, call: &ast::ExprCall, path: &str) -> Option<String> {
    let first = call.arguments.args.first();
    match when {
        ApiCondition::Always => Some("is used".into()),
        ApiCondition::KwargTrue(k) => keyword(call, k)
            .filter(|v| !literally_false(v))
            .map(|_| format!("is called with `{k}`")),
        ApiCondition::KwargNotFalse(k) => keyword(call, k)
            .filter(|v| !literally_false(v))
            .map(|_| format!("is called with `{k}`")),
        ApiCondition::Workers => keyword(call, "num_workers")
            .filter(|v| !literally_false(v))
            .map(|_| "is called with worker processes".into()),
        ApiCondition::UrlArgument => match first {
            Some(Expr::StringLiteral(s)) if is_url(s.value.to_str()) => {
                Some(format!("opens the URL {:?}", s.value.to_str()))
            }
            _ => None,
        },
        ApiCondition::RemoteSource => {
            if !path.ends_with(".from_pretrained") {
                return None;
            }
            let local = keyword(call, "local_files_only")
                .is_some_and(|v| matches!(v, Expr::BooleanLiteral(b) if b.value));
            match first.or_else(|| keyword(call, "pretrained_model_name_or_path")) {
                Some(Expr::StringLiteral(s)) if !local => {
                    let v = s.value.to_str();
                    let looks_local =
                        v.starts_with("./") || v.starts_with("../") || v.starts_with('/');
                    (!looks_local)
                        .then(|| format!("loads {v:?}, a Hub name, without local_files_only=True"))
                }
                _ => None,
            }
        }
        ApiCondition::WriteMode => {
            let mode = call.arguments.args.get(1).or_else(|| keyword(call, "mode"));
            match mode {
                None => None,
                Some(Expr::StringLiteral(s)) => {
                    let m = s.value.to_str();
                    m.contains(['w', 'a', 'x', '+'])
                        .then(|| format!("opens a file in mode {m:?}"))
                }
                Some(_) => Some("opens a file in a mode that is not a literal".into()),
            }
        }
    }
}

/// A literal file mode as `open` accepts it ("r", "wb", "a+", "rt"...).
fn is_open_mode(m: &str) -> bool {
    !m.is_empty() && m.len() <= 4 && m.chars().all(|c| "rwxabt+".contains(c))
}

/// Attribute names read by `str.format` replacement fields (`{0.a.b[1]}` → a, b).
fn format_field_attributes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            continue;
        }
        let field: String = chars
            .by_ref()
            .take_while(|&c| c != '}' && c != '!' && c != ':')
            .collect();
        for part in field.split('.').skip(1) {
            out.push(part.split('[').next().unwrap_or("").to_string());
        }
    }
    out
}

/// The names a scope binds, found without entering nested scopes.
fn collect(body: &[Stmt], params: Option<&ast::Parameters>, is_class: bool) -> Scope {
    let mut scope = Scope {
        is_class,
        ..Scope::default()
    };
    if let Some(p) = params {
        for param in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            let binding = match &param.default {
                Some(d) => Binding::Alias((**d).clone()),
                None => Binding::Opaque,
            };
            scope
                .bindings
                .entry(param.parameter.name.to_string())
                .or_default()
                .push(binding);
        }
        for p in p.vararg.iter().chain(&p.kwarg) {
            scope
                .bindings
                .entry(p.name.to_string())
                .or_default()
                .push(Binding::Opaque);
        }
    }
    let mut c = Collector { scope: &mut scope };
    for s in body {
        c.visit_stmt(s);
    }
    scope
}

struct Collector<'s> {
    scope: &'s mut Scope,
}

impl Collector<'_> {
    fn bind(&mut self, name: &str, b: Binding) {
        self.scope
            .bindings
            .entry(name.to_string())
            .or_default()
            .push(b);
    }
    fn bind_target(&mut self, target: &Expr, value: Option<&Expr>) {
        match target {
            Expr::Name(n) => {
                let b = match value {
                    Some(v @ (Expr::Name(_) | Expr::Attribute(_))) => Binding::Alias(v.clone()),
                    _ => Binding::Opaque,
                };
                self.bind(n.id.as_str(), b);
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.bind_target(e, None)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.bind_target(e, None)),
            Expr::Starred(s) => self.bind_target(&s.value, None),
            _ => {}
        }
    }
}

impl<'a> Visitor<'a> for Collector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.bind(f.name.as_str(), Binding::Opaque),
            Stmt::ClassDef(c) => self.bind(c.name.as_str(), Binding::Opaque),
            Stmt::Import(i) => {
                for alias in &i.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(a) => self.bind(a.as_str(), Binding::Path(full.to_string())),
                        None => {
                            let root = full.split('.').next().unwrap_or(full);
                            self.bind(root, Binding::Path(root.to_string()));
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map_or("", |m| m.as_str());
                for alias in &i.names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    let b = if i.level == 0 {
                        Binding::Path(format!("{module}.{}", alias.name.as_str()))
                    } else {
                        Binding::Opaque
                    };
                    self.bind(bound, b);
                }
            }
            Stmt::Assign(a) => a
                .targets
                .iter()
                .for_each(|t| self.bind_target(t, Some(&a.value))),
            Stmt::AnnAssign(a) => self.bind_target(&a.target, a.value.as_deref()),
            Stmt::AugAssign(a) => self.bind_target(&a.target, None),
            Stmt::For(f) => {
                self.bind_target(&f.target, None);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        self.bind_target(v, None);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Try(t) => {
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        self.bind(n.as_str(), Binding::Opaque);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Global(_) | Stmt::Nonlocal(_) => {}
            _ => visitor::walk_stmt(self, stmt),
        }
    }
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Named(n) => self.bind_target(&n.target, Some(&n.value)),
            // Nested scopes bind their own names.
            Expr::Lambda(_)
            | Expr::ListComp(_)
            | Expr::SetComp(_)
            | Expr::DictComp(_)
            | Expr::Generator(_) => {}
            _ => visitor::walk_expr(self, expr),
        }
    }
}

impl<'a> Visitor<'a> for Analyzer<'_> {
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
                    }
                }
            }
            Stmt::Assign(a) => {
                if a.targets.iter().all(|t| matches!(t, Expr::Name(_))) {
                    self.allow_module_value(&a.value);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(a) => {
                if let (Expr::Name(_), Some(v)) = (a.target.as_ref(), &a.value) {
                    self.allow_module_value(v);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.visit_decorator(d);
                }
                let p = &f.parameters;
                for param in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
                    if let Some(d) = &param.default {
                        self.visit_expr(d);
                    }
                    if let Some(a) = &param.parameter.annotation {
                        self.visit_annotation(a);
                    }
                }
                if let Some(r) = &f.returns {
                    self.visit_annotation(r);
                }
                self.check_identifier(f.name.as_str(), span(&f.name));
                self.push_scope(collect(&f.body, Some(p), false));
                for s in &f.body {
                    self.visit_stmt(s);
                }
                self.pop_scope();
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.visit_decorator(d);
                }
                if let Some(args) = &c.arguments {
                    self.visit_arguments(args);
                }
                self.check_identifier(c.name.as_str(), span(&c.name));
                self.push_scope(collect(&c.body, None, true));
                for s in &c.body {
                    self.visit_stmt(s);
                }
                self.pop_scope();
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) => {
                self.check_identifier(n.id.as_str(), span(n));
                if n.ctx == ast::ExprContext::Load {
                    let paths = self.resolve(expr, span(n));
                    self.check_module_value(expr, &paths);
                    for path in paths.into_iter().flatten() {
                        self.check_path(&path, span(n));
                    }
                }
            }
            Expr::Attribute(a) => {
                let attr = a.attr.as_str();
                self.check_attribute_name(attr, span(&a.attr));
                let paths = self.resolve(expr, span(expr));
                if a.ctx == ast::ExprContext::Load {
                    self.check_module_value(expr, &paths);
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
                    self.check_library_mutation(expr, &paths);
                }
                if paths.iter().all(Option::is_none) && MODULE_LIKE_ATTRIBUTES.contains(&attr) {
                    self.report(
                        Diagnostic::new(&rules::MODULE_VIA_ATTRIBUTE, format!("`.{attr}` on a value gasguard cannot resolve reads like the module `{attr}`"))
                            .help("rename the attribute; reaching a module through an object's attributes is how the policy is evaded"),
                        span(&a.attr),
                    );
                }
                for path in paths.into_iter().flatten() {
                    self.check_path(&path, span(expr));
                }
                // The base is checked through the full path; still walk it for
                // nested calls, subscripts and the like.
                match a.value.as_ref() {
                    Expr::Name(_) | Expr::Attribute(_) => self.visit_expr_chain_base(&a.value),
                    other => self.visit_expr(other),
                }
            }
            Expr::Named(n) => {
                if matches!(n.target.as_ref(), Expr::Name(_)) {
                    self.allow_module_value(&n.value);
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Call(c) => {
                if let Some(name) = dotted(&c.func) {
                    self.inventory.calls.insert(name);
                }
                self.check_call(c);
                visitor::walk_expr(self, expr);
            }
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    for param in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
                        if let Some(d) = &param.default {
                            self.visit_expr(d);
                        }
                    }
                }
                self.push_scope(collect(&[], l.parameters.as_deref(), false));
                self.visit_expr(&l.body);
                self.pop_scope();
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

impl Analyzer<'_> {
    /// Walks the base of an attribute chain without re-checking its path.
    fn visit_expr_chain_base(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(n) => self.check_identifier(n.id.as_str(), span(n)),
            Expr::Attribute(a) => {
                self.check_attribute_name(a.attr.as_str(), span(&a.attr));
                match a.value.as_ref() {
                    inner @ (Expr::Name(_) | Expr::Attribute(_)) => {
                        self.visit_expr_chain_base(inner)
                    }
                    other => self.visit_expr(other),
                }
            }
            other => self.visit_expr(other),
        }
    }

    /// The name of an accessed attribute: non-ASCII, or an introspection dunder.
    fn check_attribute_name(&mut self, attr: &str, at: Range<usize>) {
        self.check_identifier(attr, at.clone());
        if DUNDER_ATTRIBUTES.contains(&attr) {
            let help = if attr == "__class__" {
                "use type(obj) instead"
            } else {
                "remove it; models have no need to introspect the interpreter"
            };
            self.report(
                Diagnostic::new(
                    &rules::DUNDER_ACCESS,
                    format!("`.{attr}` reaches code, frames or globals"),
                )
                .help(help),
                at,
            );
        }
    }

    fn check_identifier(&mut self, name: &str, at: Range<usize>) {
        if !name.is_ascii() {
            self.report(
                Diagnostic::new(&rules::NON_ASCII_IDENTIFIER, format!("the identifier `{name}` has non-ASCII characters (Python reads it NFKC-normalised)"))
                    .help("use ASCII names"),
                at,
            );
        }
    }
}

/// Runs every AST check.
pub fn analyze(
    file: &str,
    module: &ast::ModModule,
    policy: &Policy,
    facts: &ConfigFacts,
) -> (Vec<Diagnostic>, CodeInventory) {
    let mut a = Analyzer::new(file, policy);
    a.run(module);
    a.check_load_model(module, facts);
    a.check_module_statements(module);
    (a.diags, a.inventory)
}
