//! String annotations (`x: "torch.Tensor"`, and every annotation under
//! `from __future__ import annotations`) are code that libraries evaluate
//! (`typing.get_type_hints` and its many callers): parsed and checked as
//! the expressions they are, in the scope they would be evaluated in.
//!
//! Every way a string becomes an annotation is checked where it happens:
//! strings anywhere inside an annotation, strings stored into
//! `__annotations__`, strings given to `typing.ForwardRef`. So the APIs
//! that evaluate annotations (`typing.get_type_hints`, `singledispatch`'s
//! `register`, `torch.library.infer_schema`) only evaluate strings already
//! proven safe, and are judged on their namespaces alone (`sinks.rs`).
//! What an annotation evaluates to is handed back to the caller
//! (`get_type_hints(f)["x"]`): a module, a policy API judged by its
//! arguments, or a builtin function there is an error, like a module
//! passed on as a value.

use std::ops::Range;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr};

use super::paths::is_module_path;
use super::{Analyzer, span};
use crate::diagnostic::Diagnostic;
use crate::policy::ApiCondition;
use crate::python::values::{Value, Values};
use crate::rules::code as rules;

/// Builtins an annotation may name: types. Any other builtin (`open`,
/// `getattr`) would be handed back as a callable by `get_type_hints`.
const BUILTIN_TYPES: &[&str] = &[
    "int",
    "float",
    "complex",
    "str",
    "bytes",
    "bytearray",
    "bool",
    "list",
    "dict",
    "tuple",
    "set",
    "frozenset",
    "type",
    "object",
    "slice",
    "range",
    "memoryview",
    "None",
    "Ellipsis",
];

/// Every string literal inside an expression (`Optional["x"]`, `list["x"]`),
/// except inside what is spelt `Literal[...]` (kept apart until the name is
/// proven to be `typing.Literal`).
#[derive(Default)]
struct Strings<'e> {
    found: Vec<&'e ast::ExprStringLiteral>,
    literal_forms: Vec<&'e ast::ExprSubscript>,
    /// Collect under `Literal[...]` too.
    keep_literals: bool,
}

impl<'e> Visitor<'e> for Strings<'e> {
    fn visit_expr(&mut self, expr: &'e Expr) {
        match expr {
            Expr::StringLiteral(s) => self.found.push(s),
            // `Literal["max"]` holds values, which nothing evaluates.
            Expr::Subscript(s) if !self.keep_literals && is_literal_form(&s.value) => {
                self.literal_forms.push(s)
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// `Literal` or `typing.Literal`: its strings are values, not annotations.
fn is_literal_form(expr: &Expr) -> bool {
    match expr {
        Expr::Name(n) => n.id.as_str() == "Literal",
        Expr::Attribute(a) => a.attr.as_str() == "Literal",
        _ => false,
    }
}

/// Strings inside string annotations are annotations too; this deep.
const MAX_NESTING: usize = 3;

/// What an annotation's expression references.
#[derive(Default)]
struct Collected {
    /// Dotted chains rooted at a name: (root, attributes).
    chains: Vec<(String, Vec<String>)>,
    attributes: Vec<String>,
    strings: Vec<String>,
    /// Strings under what is spelt `Literal[...]`, with the chain that
    /// spells it: values unless that chain is some other object.
    literal_strings: Vec<((String, Vec<String>), Vec<String>)>,
    other_code: bool,
}

/// A dotted chain rooted at a name (`typing.Literal` → ("typing", ["Literal"])).
fn chain_of(expr: &Expr) -> Option<(String, Vec<String>)> {
    match expr {
        Expr::Name(n) => Some((n.id.to_string(), Vec::new())),
        Expr::Attribute(a) => chain_of(&a.value).map(|(root, mut attrs)| {
            attrs.push(a.attr.to_string());
            (root, attrs)
        }),
        _ => None,
    }
}

impl<'e> Visitor<'e> for Collected {
    fn visit_expr(&mut self, expr: &'e Expr) {
        match expr {
            Expr::Name(n) => self.chains.push((n.id.to_string(), Vec::new())),
            Expr::Attribute(a) => {
                self.attributes.push(a.attr.to_string());
                let mut attrs = vec![a.attr.to_string()];
                let mut base = a.value.as_ref();
                while let Expr::Attribute(inner) = base {
                    self.attributes.push(inner.attr.to_string());
                    attrs.push(inner.attr.to_string());
                    base = inner.value.as_ref();
                }
                attrs.reverse();
                match base {
                    Expr::Name(n) => self.chains.push((n.id.to_string(), attrs)),
                    other => self.visit_expr(other),
                }
            }
            Expr::StringLiteral(s) => self.strings.push(s.value.to_str().to_string()),
            Expr::Subscript(s) if is_literal_form(&s.value) && chain_of(&s.value).is_some() => {
                self.visit_expr(&s.value);
                // Every string under it, nested forms included.
                let mut inner = Strings {
                    keep_literals: true,
                    ..Strings::default()
                };
                inner.visit_expr(&s.slice);
                let strings = inner
                    .found
                    .iter()
                    .map(|l| l.value.to_str().to_string())
                    .collect();
                if let Some(chain) = chain_of(&s.value) {
                    self.literal_strings.push((chain, strings));
                }
            }
            Expr::Call(_)
            | Expr::Lambda(_)
            | Expr::Named(_)
            | Expr::Await(_)
            | Expr::Yield(_)
            | Expr::YieldFrom(_) => {
                self.other_code = true;
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

impl Analyzer<'_, '_> {
    pub(super) fn check_string_annotation(&mut self, text: &str, at: Range<usize>, depth: usize) {
        if depth > MAX_NESTING {
            return self.report(
                Diagnostic::new(
                    &rules::UNRESOLVABLE_NAME,
                    "string annotations nested deeper than gasguard reads",
                )
                .help("write annotations as plain expressions"),
                at,
            );
        }
        let parsed = match ruff_python_parser::parse_expression(text) {
            Ok(p) => p,
            // A library evaluating it would fail: not code that runs.
            Err(_) => return,
        };
        let mut c = Collected::default();
        c.visit_expr(parsed.expr());
        for ((root, attrs), strings) in std::mem::take(&mut c.literal_strings) {
            self.interp.begin();
            let is_literal = self.interp.name(self.scope, &root, 0).iter().all(|v| {
                let path = match v {
                    Value::Lib(p) => std::iter::once(p.to_string())
                        .chain(attrs.iter().cloned())
                        .collect::<Vec<_>>()
                        .join("."),
                    _ => String::new(),
                };
                path == "typing.Literal" || path == "typing_extensions.Literal"
            });
            if !is_literal {
                c.strings.extend(strings);
            }
        }
        if c.other_code {
            self.report(
                Diagnostic::new(
                    &rules::DUNDER_ACCESS,
                    "a string annotation holds a call or other code, which libraries evaluate",
                )
                .help("annotations name types: `x: torch.Tensor`"),
                at.clone(),
            );
        }
        for attr in &c.attributes {
            self.check_attribute_name(attr, at.clone());
        }
        for (root, attrs) in &c.chains {
            let lookup = self.model.lookup(self.scope, root);
            if lookup.scopes.is_empty() && !lookup.builtin {
                // Evaluated in other globals (`__wrapped__` set by
                // functools.wraps, a namespace given to the evaluating
                // call), it would mean whatever it means there.
                self.report(
                    Diagnostic::new(&rules::UNRESOLVABLE_NAME, format!("the string annotation names `{root}`, bound nowhere in model.py: a library evaluating it in other globals finds whatever is there"))
                        .help("annotate with names model.py imports or defines"),
                    at.clone(),
                );
                continue;
            }
            self.interp.begin();
            let values = self.interp.name(self.scope, root, 0);
            for v in values {
                let path = match &v {
                    Value::Lib(p) => p.to_string(),
                    Value::Builtin(b) => format!("builtins.{b}"),
                    _ => continue,
                };
                let full = std::iter::once(path)
                    .chain(attrs.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(".");
                self.check_path(&full, at.clone());
                if c.other_code {
                    continue; // reported above: what it evaluates to is moot
                }
                let evaluated = if full.starts_with("builtins.") && attrs.is_empty() {
                    v.clone()
                } else {
                    Value::Lib(full.into())
                };
                self.check_annotation_value(&evaluated, at.clone());
            }
        }
        for s in &c.strings {
            self.check_string_annotation(s, at.clone(), depth + 1);
        }
    }
}

impl<'a> Analyzer<'_, 'a> {
    /// An annotation as written: every string inside it is a string
    /// annotation, and what the expression evaluates to is handed back by
    /// `get_type_hints`.
    pub(super) fn check_annotation(&mut self, expr: &'a Expr) {
        let mut strings = Strings::default();
        strings.visit_expr(expr);
        while let Some(form) = strings.literal_forms.pop() {
            self.interp.begin();
            let is_literal = self.interp.eval(&form.value, self.scope).iter().all(|v| {
                matches!(v, Value::Lib(p) if &**p == "typing.Literal" || &**p == "typing_extensions.Literal")
            });
            if !is_literal {
                // Another object under that name: its strings may be evaluated.
                let mut all = Strings {
                    keep_literals: true,
                    ..Strings::default()
                };
                all.visit_expr(&form.slice);
                strings.found.extend(all.found);
            }
        }
        for s in strings.found {
            self.check_string_annotation(s.value.to_str(), span(s), 0);
        }
        if !matches!(expr, Expr::StringLiteral(_)) {
            self.interp.begin();
            let values = self.interp.eval(expr, self.scope);
            for v in &values {
                self.check_annotation_value(v, span(expr));
            }
        }
    }

    /// What an annotation evaluates to: types are fine; a module, a policy
    /// API function judged by its arguments, or a builtin function is
    /// handed to whoever reads the hints.
    fn check_annotation_value(&mut self, value: &Value, at: Range<usize>) {
        let what = match value {
            Value::Builtin(b) if !BUILTIN_TYPES.contains(b) => {
                format!("the builtin `{b}`")
            }
            Value::Lib(p) if is_module_path(p) => format!("the module `{p}`"),
            // Functions only: annotating with a class such as
            // `PreTrainedModel` or `DataLoader` is what type hints are for.
            Value::Lib(p)
                if !p
                    .rsplit('.')
                    .next()
                    .is_some_and(|last| last.starts_with(char::is_uppercase))
                    && self
                        .apis_covering(p)
                        .iter()
                        .any(|(a, _)| a.when != ApiCondition::Always) =>
            {
                format!("`{p}`, whose calls are judged by their arguments")
            }
            _ => return,
        };
        self.report(
            Diagnostic::new(&rules::MODULE_AS_VALUE, format!("an annotation evaluates to {what}: `typing.get_type_hints` hands it to code gasguard cannot follow"))
                .help("annotations name types: `x: torch.Tensor`"),
            at,
        );
    }

    /// A value stored into `__annotations__` (`f.__annotations__["x"] = v`,
    /// or a dict literal for all of it): each string is a string annotation;
    /// a value gasguard cannot list (read from the weights' metadata, built
    /// at run time) is an error, because libraries evaluate it as code.
    fn check_stored_annotation(&mut self, value: &'a Expr) {
        if let Expr::Dict(d) = value {
            for item in &d.items {
                if item.key.is_none() {
                    self.report_unlisted_annotation("a `**` unpacking", span(&item.value));
                    continue;
                }
                self.check_stored_annotation(&item.value);
            }
            return;
        }
        self.interp.begin();
        let values = self.interp.eval(value, self.scope);
        for v in &values {
            match v {
                Value::Str { text, exact: true } => {
                    self.check_string_annotation(text, span(value), 0)
                }
                Value::None | Value::Class(_) | Value::Lib(_) | Value::Builtin(_) => {
                    self.check_annotation_value(v, span(value))
                }
                other => {
                    let what = other.describe();
                    self.report_unlisted_annotation(&what, span(value));
                }
            }
        }
    }

    fn report_unlisted_annotation(&mut self, what: &str, at: Range<usize>) {
        self.report(
            Diagnostic::new(&rules::UNPROVEN_VALUE, format!("`__annotations__` is given {what}, which gasguard cannot list: libraries evaluate annotation strings as code"))
                .help("write annotations in the source (`def f(x: int)`), or store literal strings"),
            at,
        );
    }

    /// Stores into the dunders libraries evaluate: `__annotations__` (its
    /// values are checked as annotations) and `__wrapped__`
    /// (`get_type_hints` evaluates in the globals of `__wrapped__`, so it
    /// must be a function or class of model.py). Returns whether the
    /// target was such a store, judged here (the attribute's name is then
    /// not P107).
    pub(super) fn check_dunder_store(&mut self, target: &'a Expr, value: &'a Expr) -> bool {
        let (attr, whole) = match target {
            Expr::Attribute(a) => (a, true),
            Expr::Subscript(s) => match s.value.as_ref() {
                Expr::Attribute(a) if a.attr.as_str() == "__annotations__" => (a, false),
                _ => return false,
            },
            _ => return false,
        };
        let is_annotations = attr.attr.as_str() == "__annotations__";
        if is_annotations
            && (!self.is_own_undecorated(&attr.value) || self.may_wrap_foreign(&attr.value))
        {
            // Its annotations may be evaluated in other globals (a
            // decorator such as functools.wraps, or a call of
            // functools.update_wrapper, sets `__wrapped__`).
            return false;
        }
        match (attr.attr.as_str(), whole) {
            ("__annotations__", true) if matches!(value, Expr::Dict(_)) => {
                self.check_stored_annotation(value)
            }
            ("__annotations__", false) => self.check_stored_annotation(value),
            ("__wrapped__", true) => {
                self.interp.begin();
                let values = self.interp.eval(value, self.scope);
                if let Some(v) = values
                    .iter()
                    .find(|v| !matches!(v, Value::Function(_) | Value::Class(_)))
                {
                    self.report(
                        Diagnostic::new(&rules::DUNDER_ACCESS, format!("`.__wrapped__` is set to {}: `typing.get_type_hints` evaluates annotations in the globals of `__wrapped__`, so only a function or class of model.py is allowed there", v.describe()))
                            .help("use functools.wraps on your own functions, or do not set __wrapped__"),
                        span(value),
                    );
                }
            }
            _ => return false,
        }
        // Judged here: the name itself is not the finding.
        self.reported
            .insert((span(&attr.attr).start, rules::DUNDER_ACCESS.code));
        true
    }
}

impl<'a> Analyzer<'_, 'a> {
    /// Whether `receiver` is only functions or classes of model.py without
    /// decorators, whose annotations are evaluated in model.py's globals.
    fn is_own_undecorated(&mut self, receiver: &'a Expr) -> bool {
        self.interp.begin();
        let values = self.interp.eval(receiver, self.scope);
        !values.is_empty()
            && values.iter().all(|v| match v {
                Value::Function(f) => self.model.functions[*f].decorators.is_empty(),
                Value::Class(k) => self.model.classes[*k].decorators.is_empty(),
                _ => false,
            })
    }
}

/// Values an API evaluating annotations may be given as a namespace.
pub(super) fn is_no_namespace(values: &Values) -> bool {
    values.iter().all(|v| matches!(v, Value::None))
}
