//! The evaluator's contract with model.py: a top-level `load_model` it can
//! call as `load_model(weights_path, **model_section)` (or, on a
//! TypeError, with `num_classes` alone), and a module body that only
//! defines things.

use foldhash::HashSet;

use ruff_python_ast::{self as ast, Expr, Stmt};

use super::{Analyzer, span};
use crate::config::ConfigFacts;
use crate::diagnostic::{Diagnostic, Severity};
use crate::python::values::is_main_guard;
use crate::rules::code as rules;

impl Analyzer<'_, '_> {
    pub(super) fn check_load_model(&mut self, module: &ast::ModModule, facts: &ConfigFacts) {
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
        if contains_yield(&def.body) {
            self.report(
                Diagnostic::new(
                    &rules::LOAD_MODEL_SIGNATURE,
                    "`load_model` contains `yield`: the evaluator would get a generator, not a model",
                )
                .help(help),
                at.clone(),
            );
        }
        if def.is_async {
            self.report(
                Diagnostic::new(
                    &rules::LOAD_MODEL_SIGNATURE,
                    "`load_model` is `async`: the evaluator would get a coroutine, not a model",
                )
                .help(help),
                at.clone(),
            );
        }
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
                // The evaluator retries `load_model(path, num_classes=...)`
                // on a TypeError: an unaccepted extra key is dropped, and
                // the model still loads when num_classes is accepted.
                let (msg, severity) = if key == "num_classes" {
                    (
                        "`load_model` does not accept `num_classes`".to_string(),
                        Severity::Error,
                    )
                } else if accepts("num_classes") {
                    (
                        format!(
                            "`load_model` does not accept `{key}`, which model_config.yaml passes under `model:`; the evaluator falls back to load_model(path, num_classes=...) and drops it"
                        ),
                        Severity::Warning,
                    )
                } else {
                    (
                        format!(
                            "`load_model` does not accept `{key}`, which model_config.yaml passes under `model:`"
                        ),
                        Severity::Error,
                    )
                };
                self.report(
                    Diagnostic::new(&rules::LOAD_MODEL_SIGNATURE, msg)
                        .severity(severity)
                        .help(help),
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

    pub(super) fn check_module_statements(&mut self, module: &ast::ModModule) {
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

/// Whether a function body yields (not counting nested functions, lambdas
/// and classes, which have their own bodies).
fn contains_yield(body: &[Stmt]) -> bool {
    use ruff_python_ast::visitor::{self, Visitor};
    struct Finder(bool);
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Yield(_) | Expr::YieldFrom(_) => self.0 = true,
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut f = Finder(false);
    for s in body {
        f.visit_stmt(s);
    }
    f.0
}
